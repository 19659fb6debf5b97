# bursa-scanner: `bursa custody scan` without senders: reads node URLs only.
# Rendered by `bursa secrets policies` from bursa/secrets/policies.py: edit that.

path "transit/decrypt/custody-node" {
  capabilities = ["update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}
