#!/bin/bash -eu
# Builds every cargo-fuzz target of lockstep for ClusterFuzzLite / OSS-Fuzz and ships each
# with its checked-in seed corpus (fuzz/seeds/TARGET) as TARGET_seed_corpus.zip.
cd "$SRC/lockstep/fuzz"
cargo fuzz build -O
for target in $(cargo fuzz list); do
  cp "target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
  if [ -d "seeds/$target" ]; then
    (cd "seeds/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
  fi
done
