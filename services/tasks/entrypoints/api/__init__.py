"""The staff API's routers, one per resource."""

from services.tasks.entrypoints.api import actions, contacts, keys, tasks, tenants, users

ROUTERS = (tenants.router, tenants.tenant, keys.router, contacts.router, tasks.router, actions.router, users.router)
