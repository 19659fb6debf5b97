# OpenBao for the single-host stack (docker-compose.yml): its data in the openbao-data
# volume, plain HTTP on the stack's own network only (never published). For a production
# server (TLS, raft, audit device, AppRole per role) see deploy/openbao/.
storage "raft" {  # one node; OpenBao has no plain file storage
  path    = "/openbao/file"
  node_id = "openbao"
}

listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}

api_addr      = "http://openbao:8200"
cluster_addr  = "http://openbao:8201"
disable_mlock = true  # as raft storage advises
ui            = false
# Bursa's static token (BURSA_VAULT_TOKEN) is never renewed: it may live this long.
max_lease_ttl     = "87600h"
default_lease_ttl = "87600h"
