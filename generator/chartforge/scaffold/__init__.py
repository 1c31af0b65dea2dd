"""``chartforge new``: a working chart skeleton in ``sources/charts/<name>/``, registered in the catalog."""

from chartforge.scaffold.new import KINDS, NewChart, new_chart

__all__ = ["KINDS", "NewChart", "new_chart"]
