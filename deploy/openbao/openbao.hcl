# An OpenBao server for Bursa: an example to adapt (addresses, TLS files, storage).
#   bao server -config=/etc/openbao/openbao.hcl -config=/etc/openbao/audit.hcl
# Then, once: `bao operator init` (keep the unseal keys apart), `bao operator unseal`,
# and `bursa secrets setup` (deploy/openbao/README.md).
storage "raft" {
  path    = "/var/lib/openbao/data"
  node_id = "openbao-1"
}

listener "tcp" {
  address       = "0.0.0.0:8200"
  tls_cert_file = "/etc/openbao/tls/server.crt"
  tls_key_file  = "/etc/openbao/tls/server.key"
}

api_addr     = "https://openbao-1.internal:8200"
cluster_addr = "https://openbao-1.internal:8201"
ui           = false
