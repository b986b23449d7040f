"""The firmware versions the emulator speaks, by name: the one place that
looks a version up by its name (``--protocol``, the fleet's machines).
What differs between them lives in their modules, v1900 and v2900."""
from .v1900 import Coffee1900
from .v2900 import Coffee2900

VERSIONS = dict((v.name, v) for v in (Coffee1900, Coffee2900))
NAMES = tuple(sorted(VERSIONS))
