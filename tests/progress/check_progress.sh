#!/usr/bin/env bash
# fit's progress as a person sees it. In a terminal (a tmux pane, read with capture-pane): while
# training, one bar redrawn in place with steps, elapsed time, ETA, samples/s, running loss and
# accuracy; when done, one finished bar per epoch and nothing left over. Through a pipe: plain
# lines, no carriage returns. usage: check_progress.sh <progress_program>
set -euo pipefail
program=$(realpath "$1")
if ! command -v tmux >/dev/null; then
  echo "tmux is not installed: skipped"
  exit 77
fi
dir=$(mktemp -d)
session="frost_progress_$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$dir"' EXIT
fail() { echo "FAILED: $1"; echo "--- pane:"; cat "$dir/pane" 2>/dev/null || true; exit 1; }

tmux new-session -d -s "$session" -x 220 -y 40 \
  "FROST_PROGRESS_DIR=$dir $program; echo exit=\$? > $dir/status; sleep 30"
for _ in $(seq 600); do [ -e "$dir/paused" ] && break; sleep 0.05; done
[ -e "$dir/paused" ] || fail "the program never reached its pause point"
sleep 0.2
tmux capture-pane -p -t "$session" > "$dir/pane"
# Mid-epoch 2, after 6 of 20 batches: the finished epoch 1, then the live bar.
grep -qx 'Epoch 1/3' "$dir/pane" || fail "no 'Epoch 1/3' line"
grep -qE '^20/20 \[={30}\] - [0-9.]+(us|ms|s) [0-9.]+(us|ms|s)/step - [0-9.]+k? samples/s - loss: [0-9.]+ - accuracy: [0-9.]+$' "$dir/pane" \
  || fail "no finished bar for epoch 1"
grep -qx 'Epoch 2/3' "$dir/pane" || fail "no 'Epoch 2/3' line"
grep -qE '^ 6/20 \[=========>\.{20}\] - elapsed [0-9.]+(us|ms|s) - ETA [0-9.]+(us|ms|s) - [0-9.]+k? samples/s - loss: [0-9.]+ - accuracy: [0-9.]+ *$' "$dir/pane" \
  || fail "no live bar at 6/20 with elapsed, ETA, samples/s, loss and accuracy"
[ "$(grep -c '/20 \[' "$dir/pane")" = 2 ] || fail "expected 2 bars on screen (epoch 1 done, epoch 2 live), the rest redrawn in place"

touch "$dir/resume"
for _ in $(seq 600); do [ -e "$dir/status" ] && break; sleep 0.05; done
[ -e "$dir/status" ] || fail "the program did not finish"
sleep 0.1
tmux capture-pane -p -t "$session" > "$dir/pane"
grep -qx 'exit=0' "$dir/status" || fail "the program failed: $(cat "$dir/status")"
[ "$(grep -cE '^20/20 \[={30}\] - .* - loss: [0-9.]+ - accuracy: [0-9.]+$' "$dir/pane")" = 3 ] || fail "expected 3 finished bars"
grep -q 'ETA' "$dir/pane" && fail "a live bar was left on screen"
grep -q '^done: 3 epochs$' "$dir/pane" || fail "no 'done' line"

# Through a pipe: Keras's verbose=2 lines, one per epoch, no bar.
"$program" | cat > "$dir/piped"
grep -q $'\r' "$dir/piped" && fail "carriage returns in piped output"
[ "$(grep -cE '^20/20 - [0-9.]+(us|ms|s) [0-9.]+(us|ms|s)/step - [0-9.]+k? samples/s - loss: [0-9.]+ - accuracy: [0-9.]+$' "$dir/piped")" = 3 ] \
  || { cp "$dir/piped" "$dir/pane"; fail "expected 3 plain epoch lines through a pipe"; }
[ "$(wc -l < "$dir/piped")" = 7 ] || { cp "$dir/piped" "$dir/pane"; fail "expected 7 lines through a pipe"; }
echo "progress checks passed"
