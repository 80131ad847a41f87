"""The storage primitive: only the library's files are replaced, atomically, checksummed."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from fs_helpers import digest, fill, read_only, tmpfs
from waste_harmony.storage import (
    FILES_KEY,
    SEAL_KEY,
    STAGING_PREFIX,
    WriteError,
    check_place,
    check_seal,
    damaged_files,
    environment_message,
    foreign_files,
    publish_folder,
    seal,
    write_atomic,
    write_errors,
)


def writer(**files):
    """A ``write(staging)`` writing these names with this text."""

    def write(staging):
        for name, text in files.items():
            (staging / name).write_text(text)

    return write


def publish(folder, replace=False, **files):
    return publish_folder(folder, writer(**files), {"kind": "test"}, replace=replace)


def test_a_new_folder_holds_the_files_and_a_sealed_manifest_listing_them(tmp_path):
    out = tmp_path / "new" / "out"
    written = publish(out, a="one", b="two")
    assert [p.name for p in written] == ["a", "b", "manifest.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest[FILES_KEY]) == {"a", "b"}
    assert manifest[FILES_KEY]["a"]["bytes"] == 3
    assert check_seal(manifest, "m") is None and damaged_files(out, manifest) == []
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "manifest.json"]


def test_replacing_removes_only_the_library_files_it_listed(tmp_path):
    out = tmp_path / "out"
    publish(out, a="one", b="two")
    publish(out, replace=True, a="uno")
    assert sorted(p.name for p in out.iterdir()) == ["a", "manifest.json"]
    assert (out / "a").read_text() == "uno"


@pytest.mark.parametrize("replace", [False, True])
def test_a_folder_with_other_files_is_refused_naming_them_and_left_untouched(tmp_path, replace):
    out = tmp_path / "out"
    publish(out, a="one")
    (out / "thesis.md").write_text("years of work")
    (out / "notes").mkdir()
    (out / "notes" / "map.py").write_text("print()")
    before = digest(out)
    message = "did not write: notes/map.py, thesis.md" if replace else "is not empty"
    with pytest.raises(FileExistsError, match=message):
        publish(out, replace=replace, a="two")
    assert digest(out) == before


def test_a_symbolic_link_inside_is_not_followed_and_counts_as_foreign(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("x")
    out = tmp_path / "out"
    publish(out, a="one")
    (out / "link").symlink_to(elsewhere)
    assert foreign_files(out, {"a", "manifest.json"}) == ["link"]
    with pytest.raises(FileExistsError, match="did not write: link"):
        publish(out, replace=True, a="two")
    assert (elsewhere / "precious").read_text() == "x"


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("", "empty text"),
        (".", "current directory"),
        ("forbidden", "the run file's own folder"),
        ("a_file", "is a file"),
    ],
)
def test_places_that_cannot_be_a_results_folder_are_refused(tmp_path, monkeypatch, where, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "forbidden").mkdir()
    (tmp_path / "a_file").write_text("x")
    with pytest.raises((ValueError, FileExistsError), match=message):
        check_place(where, forbid=[(tmp_path / "forbidden", "the run file's own folder")])


def test_a_failing_write_leaves_the_earlier_results_byte_for_byte(tmp_path):
    out = tmp_path / "out"
    publish(out, a="one", b="two")
    before = digest(out)

    def broken(staging):
        (staging / "a").write_text("half")
        raise RuntimeError("crash while writing")

    with pytest.raises(RuntimeError, match="crash"):
        publish_folder(out, broken, {}, replace=True)
    assert digest(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError):
        publish_folder(fresh, broken, {})
    assert not fresh.exists()


def test_a_seal_survives_reformatting_but_not_an_edit():
    sealed = seal({"seed": 1, "runs": [{"seed": 7}], "x": (1, 2)})
    assert sealed["x"] == [1, 2]  # JSON data
    reread = json.loads(json.dumps(sealed, indent=4))
    assert check_seal(reread, "m") is None
    reread["runs"][0]["seed"] = 8
    assert "changed after waste-harmony wrote it" in check_seal(reread, "experiment.json")
    assert check_seal({"no": "seal"}, "m") is None  # written before checksums: passes
    assert SEAL_KEY in sealed


def test_damaged_files_names_missing_and_changed_files(tmp_path):
    publish(tmp_path / "out", a="one", b="two", c="three")
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "a").unlink()
    (out / "b").write_text("TWO")  # same size, other bytes
    assert damaged_files(out, manifest) == [
        "a: missing",
        "b: changed since it was written (checksum differs)",
    ]


def test_environment_failures_become_one_line_naming_path_and_cause(tmp_path):
    with pytest.raises(WriteError) as info, write_errors(tmp_path / "x", intact="all is well"):
        raise OSError(errno.EROFS, "Read-only file system")
    assert info.value.errno == errno.EROFS
    assert str(info.value) == (
        f"cannot write {tmp_path / 'x'}: the file system is read-only (EROFS); all is well"
    )
    with pytest.raises(FileNotFoundError), write_errors(tmp_path, intact="-"):
        raise FileNotFoundError(errno.ENOENT, "gone")  # not the environment's: unchanged
    assert environment_message(OSError(errno.EXDEV, "x", "a")) == (
        "a: a rename across file systems is impossible (EXDEV)"
    )


def _other_file_system(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("no writable /dev/shm")
    if os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same file system as the test folder")
    return shm


def test_a_link_to_results_on_another_file_system_is_replaced_in_place(tmp_path):
    import tempfile

    shm = _other_file_system(tmp_path)
    real = Path(tempfile.mkdtemp(dir=shm, prefix="wh-test-")) / "results"
    try:
        publish(real, a="one", b="two")
        link = tmp_path / "LINK"
        link.symlink_to(real)
        publish(link, replace=True, a="uno")  # os.replace across devices would fail
        assert link.is_symlink() and link.resolve() == real.resolve()
        assert sorted(p.name for p in real.iterdir()) == ["a", "manifest.json"]
        assert (real / "a").read_text() == "uno"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["LINK"]  # nothing staged here
    finally:
        import shutil

        shutil.rmtree(real.parent, ignore_errors=True)


def test_a_mount_point_is_replaced_in_place(tmp_path):
    with tmpfs(tmp_path / "mounted", "1m") as out:
        publish(out, a="one")
        publish(out, replace=True, a="two")
        assert (out / "a").read_text() == "two"


def test_a_full_disk_is_a_write_error_and_the_earlier_results_stay(tmp_path):
    with tmpfs(tmp_path / "disk", "256k") as disk:
        out = disk / "results"
        publish(out, a="one")
        before = digest(out)
        fill(disk, leave=8 * 1024)
        with pytest.raises(WriteError) as info:
            publish(out, replace=True, a="x" * 200_000)
        assert info.value.errno == errno.ENOSPC
        assert "the disk is full (ENOSPC)" in str(info.value)
        assert f"the earlier results in {out} are intact" in str(info.value)
        assert digest(out) == before


def test_a_read_only_file_system_is_a_write_error(tmp_path):
    out = tmp_path / "out"
    publish(out, a="one")
    with read_only(out, tmp_path / "view") as view:
        with pytest.raises(WriteError, match=r"read-only \(EROFS\)"):
            publish(view, replace=True, a="two")
        with pytest.raises(WriteError, match="EROFS"):
            write_atomic(view / "a", lambda p: p.write_text("x"))
    assert (out / "a").read_text() == "one"


def test_an_edited_manifest_cannot_make_a_replacement_reach_outside(tmp_path):
    out = tmp_path / "out"
    publish(out, a="one")
    (tmp_path / "precious").write_text("x")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest[FILES_KEY]["../precious"] = {"sha256": "0", "bytes": 1}
    manifest[FILES_KEY]["/etc/hostname"] = {"sha256": "0", "bytes": 1}
    (out / "manifest.json").write_text(json.dumps(manifest))
    publish(out, replace=True, a="two")
    assert (tmp_path / "precious").read_text() == "x"
    assert Path("/etc/hostname").exists() or not Path("/etc").exists()
