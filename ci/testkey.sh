#!/usr/bin/env bash
# testkey.sh DIR: a throwaway OpenPGP signing key for tests and local release rehearsals, never
# committed. Writes DIR/secring.gpg and DIR/pubring.gpg in the binary keyring format Helm reads
# (Helm's provenance code cannot read GnuPG 2's keybox) and prints the key's name, the value
# `make dist charts SIGN_KEY=… KEYRING=DIR/secring.gpg` takes.
set -euo pipefail
dir=${1:?usage: testkey.sh DIR}
name="helm-flink test <test@helm-flink.invalid>"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export GNUPGHOME="$dir/gnupg"
mkdir -p -m 700 "$GNUPGHOME"
if [ ! -s "$dir/secring.gpg" ]; then
  gpg --batch --quiet --passphrase '' --quick-gen-key "$name" rsa3072 sign never 2>/dev/null
  gpg --batch --quiet --export-secret-keys > "$dir/secring.gpg"
  gpg --batch --quiet --export > "$dir/pubring.gpg"
fi
echo "$name"
