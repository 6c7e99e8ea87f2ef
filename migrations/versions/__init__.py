"""The revisions, oldest first by ``down_revision``. Never edit a released one: add one."""
