#!/usr/bin/env bash
# The test command (README): unit, integration and end-to-end tests against a real etcd and
# upstream kubectl. Every test starts its own etcd on free loopback ports and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
