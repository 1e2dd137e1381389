#!/usr/bin/env bash
# Fetches ethereum/tests at the commit lockstep is pinned to (v13.3) into DIR.
# Usage: ethereum-tests/fetch.sh [DIR]   (default: ../shared/ethereum-tests beside the checkout)
set -euo pipefail
commit=faf33b471465d3c6cdc3d04fbd690895f78d33f2
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-"$here/../../shared/ethereum-tests"}
if [ -e "$dir/.git" ]; then
  git -C "$dir" fetch --depth 1 origin "$commit"
else
  mkdir -p "$dir"
  git -C "$dir" init -q
  git -C "$dir" remote add origin https://github.com/ethereum/tests.git
  git -C "$dir" fetch --depth 1 origin "$commit"
fi
git -C "$dir" checkout -q FETCH_HEAD
echo "ethereum/tests $commit in $dir"
echo "run: cargo run --release -p lockstep -- run $dir/GeneralStateTests $dir/BlockchainTests"
