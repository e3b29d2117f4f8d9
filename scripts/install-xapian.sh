#!/usr/bin/env bash
# Installs Debian's Xapian shard server (xapian-tcpsrv, package xapian-tools) for the shard tests
# when it is missing. The Python bindings come from PyPI with `pip install '.[shards]'`.
set -euo pipefail
if command -v xapian-tcpsrv >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq xapian-tools >/dev/null
