#!/usr/bin/env bash
# Makes a CA, server and client certificates and a JWT key pair for local use into DIR.
# Usage: certs/make-dev-certs.sh DIR      (needs the openssl command)
set -euo pipefail
dir=${1:?usage: make-dev-certs.sh DIR}
mkdir -p "$dir" && cd "$dir"
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ec ca.key
openssl req -x509 -new -key ca.key -days 365 -subj /CN=spp-ctl-dev-ca -out ca.pem
sign() { # name, extension
  ec "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
  printf '%s\n' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm "$1.csr" "$1.ext"
}
server='subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth'
sign gateway "$server"
sign agent "$server"
sign gateway-client 'extendedKeyUsage=clientAuth'
ec jwt.key
openssl pkey -in jwt.key -pubout -out jwt.pub
echo "made in $dir: ca.pem, gateway.pem/key, agent.pem/key, gateway-client.pem/key, jwt.key/pub"
