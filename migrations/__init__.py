"""Alembic migrations of the acd database (``env.py``, ``versions/``).

A package only so that ``pip install .`` ships these scripts with :mod:`acd`; nothing here is
imported at run time except to find this directory (:func:`acd.storage.migrate.script_location`).
Upgrade with ``acd db upgrade``; see ``docs/storage.md``.
"""

#: Lets :mod:`acd.storage.migrate` tell this package from an unrelated ``migrations`` one.
ACD_MIGRATIONS = True
