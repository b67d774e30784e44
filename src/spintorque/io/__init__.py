"""File input/output: readers return models; models never read files."""

from .wannier90 import read_wannier90, read_win_lattice, write_wannier90_hr, write_wannier90_tb

__all__ = ["read_wannier90", "read_win_lattice", "write_wannier90_hr", "write_wannier90_tb"]
