"""IVR scenarios: the YAML format, its checker, a walk engine and a dry-run simulator.

* :mod:`acd.scenario.model` — the format (pydantic models, one class per node type);
* :mod:`acd.scenario.load` — reading a file with the position of every key and value;
* :mod:`acd.scenario.check` — the rules across the file; :func:`load_scenario` for the daemon;
* :mod:`acd.scenario.schedule` — opening hours, public holidays, transferred working days;
* :mod:`acd.scenario.engine` — the walk through the nodes, as a generator of actions;
* :mod:`acd.scenario.simulate` — a dry run with a fake clock and a list of keys.
"""

from acd.scenario.check import RoutingFacts, ScenarioError, check_file, load_scenario
from acd.scenario.model import NODE_TYPES, Scenario

__all__ = [
    "NODE_TYPES",
    "RoutingFacts",
    "Scenario",
    "ScenarioError",
    "check_file",
    "load_scenario",
]
