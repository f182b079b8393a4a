#!/usr/bin/env bash
# Makes a throwaway CA and one certificate per host, for a secured Flame cluster (TLS on every gateway, mutual TLS
# between silos). For tests and local clusters: a real deployment uses its own CA.
#
#   deploy/make-certs.sh DIR HOST...
#
# DIR/ca.pem, DIR/ca-key.pem    the CA (made once: an existing CA in DIR is reused, so certificates can be added)
# DIR/HOST.pem, DIR/HOST-key.pem  per host: valid for HOST (a name or an IP address), localhost, 127.0.0.1 and ::1,
#                               for server and client authentication (silos present the same certificate both ways)
#
# Keys are EC P-256, mode 0600. Needs openssl. Errors are one line on stderr, exit 1 (2 for a usage mistake).
set -euo pipefail

readonly NAME="make-certs.sh"
fail() { echo "$NAME: $*" >&2; exit 1; }
[[ $# -ge 2 ]] || { echo "usage: $NAME DIR HOST..." >&2; exit 2; }
command -v openssl >/dev/null || fail "openssl not found (apt-get install openssl)"

readonly DIR="$1"
shift
readonly DAYS="${FLAME_CERT_DAYS:-30}"
umask 077
mkdir -p "$DIR" || fail "cannot create $DIR"

run() { # openssl arguments...; its output only when it fails
    local out
    out="$(openssl "$@" 2>&1)" || fail "openssl $1 failed: $(echo "$out" | tail -n 1)"
}

if [[ ! -f "$DIR/ca.pem" || ! -f "$DIR/ca-key.pem" ]]; then
    run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/ca-key.pem"
    run req -x509 -new -key "$DIR/ca-key.pem" -sha256 -days "$DAYS" -subj "/CN=Flame throwaway CA $(date -u +%Y%m%dT%H%M%S)" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$DIR/ca.pem"
fi

for host in "$@"; do
    [[ "$host" =~ ^[A-Za-z0-9._:-]+$ ]] || fail "'$host' is not a host name or IP address"
    if [[ "$host" =~ ^[0-9.]+$ || "$host" == *:* ]]; then san="IP:$host"; else san="DNS:$host"; fi
    file="${host//:/_}"
    run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/$file-key.pem"
    run req -new -key "$DIR/$file-key.pem" -subj "/CN=$host" -out "$DIR/$file.csr"
    printf '%s\n' \
        "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth,clientAuth" \
        "subjectAltName=$san,DNS:localhost,IP:127.0.0.1,IP:::1" >"$DIR/$file.ext"
    run x509 -req -in "$DIR/$file.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca-key.pem" -CAcreateserial -sha256 \
        -days "$DAYS" -extfile "$DIR/$file.ext" -out "$DIR/$file.pem"
    rm -f "$DIR/$file.csr" "$DIR/$file.ext"
done
# The CA certificate and the host certificates are public; the keys stay 0600.
chmod 644 "$DIR/ca.pem" "$DIR"/*.pem
chmod 600 "$DIR"/*-key.pem
echo "CA $DIR/ca.pem; certificates for: $*"
