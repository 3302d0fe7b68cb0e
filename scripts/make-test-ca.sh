#!/bin/sh
# Makes a throwaway certificate authority and certificates for a local raftkit cluster, for
# trying TLS and for the tests. NOT for production: keys are unencrypted and valid 30 days.
#
#   scripts/make-test-ca.sh DIR CLUSTER ID [ID...]
#
# writes into DIR:
#   ca.pem, ca-key.pem            the CA (use it as --tls-ca, --peer-tls-ca and the SDK's tls.ca)
#   api.pem, api-key.pem          the API certificate (SAN IP:127.0.0.1, DNS:localhost): --tls-cert/--tls-key
#   node-ID.pem, node-ID-key.pem  member certificates naming URI:raftkit://CLUSTER/node/ID (and
#                                 IP:127.0.0.1): --peer-tls-cert/--peer-tls-key of node ID
# Needs openssl (Debian: apt-get install openssl).
set -eu
if [ $# -lt 3 ]; then
  echo "usage: $0 DIR CLUSTER ID [ID...]" >&2
  exit 2
fi
dir=$1
cluster=$2
shift 2
command -v openssl >/dev/null || { echo "$0: openssl is needed (apt-get install openssl)" >&2; exit 1; }
case $cluster in *[!A-Za-z0-9._-]*|'') echo "$0: CLUSTER must be letters, digits, . _ -" >&2; exit 2;; esac
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" >/dev/null 2>&1 || { echo "$0: failed: $*" >&2; exit 1; }; }
if [ ! -f ca.pem ]; then
  quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca-key.pem -out ca.pem -days 30 \
    -subj "/O=$cluster/CN=raftkit test CA $cluster" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi
issue() { # name subject-cn san
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" > "$1.ext"
  quiet openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1-key.pem" -out "$1.csr" -subj "/O=$cluster/CN=$2"
  quiet openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out "$1.pem" -days 30 -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
[ -f api.pem ] || issue api "raftkit api" "IP:127.0.0.1,DNS:localhost"
for id in "$@"; do
  case $id in *[!0-9]*|''|0*) echo "$0: node id must be a positive integer, got $id" >&2; exit 2;; esac
  issue "node-$id" "raftkit node $id" "URI:raftkit://$cluster/node/$id,IP:127.0.0.1,DNS:localhost"
done
echo "$dir: ca.pem api.pem$(for id in "$@"; do printf ' node-%s.pem' "$id"; done)"
