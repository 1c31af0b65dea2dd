"""File-level differences between two chart archives, nested sub-chart archives opened."""

from __future__ import annotations

from chartforge.package.archive import write_tgz
from chartforge.publish.compare import FileChange, changed_files


def test_added_removed_modified() -> None:
    old = write_tgz({"c/Chart.yaml": b"v1", "c/templates/a.yaml": b"a", "c/templates/gone.yaml": b"g"})
    new = write_tgz({"c/Chart.yaml": b"v1", "c/templates/a.yaml": b"A", "c/templates/new.yaml": b"n"})
    assert changed_files(new, old) == (
        FileChange("c/templates/a.yaml", "modified"),
        FileChange("c/templates/gone.yaml", "removed"),
        FileChange("c/templates/new.yaml", "added"),
    )
    assert changed_files(new, new) == ()


def test_nested_archives_show_the_inner_file() -> None:
    sub_old = write_tgz({"db/Chart.yaml": b"x", "db/templates/d.yaml": b"1"})
    sub_new = write_tgz({"db/Chart.yaml": b"x", "db/templates/d.yaml": b"2"})
    old = write_tgz({"u/Chart.yaml": b"u", "u/charts/db-1.0.0.tgz": sub_old})
    new = write_tgz({"u/Chart.yaml": b"u", "u/charts/db-1.0.0.tgz": sub_new})
    assert changed_files(new, old) == (FileChange("u/charts/db-1.0.0.tgz!/db/templates/d.yaml", "modified"),)
    assert str(changed_files(new, old)[0]) == "modified u/charts/db-1.0.0.tgz!/db/templates/d.yaml"
