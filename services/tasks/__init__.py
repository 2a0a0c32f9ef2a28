"""The staff API: tenants and their keys, contacts, tasks, phases and the signature requests on them."""
