#!/usr/bin/env bash
# What a registrar sees: starts the demonstration network, opens registry-tui for Taff in a
# tmux window of 80x24, types through a create-and-sync workflow and prints each screen.
#
#   scripts/tui-walkthrough.sh            # screens are also kept in .walkthrough/screens/
#   tmux attach -t registrar              # while it runs, to watch it live
#
# Needs tmux and the project's .venv (make demo or make test creates it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
WORK=.walkthrough
SESSION=registrar
command -v tmux >/dev/null || { echo "tmux is needed: apt-get install tmux" >&2; exit 1; }
[ -x "$BIN/registry-tui" ] || make .venv/.installed

rm -rf "$WORK" && mkdir -p "$WORK/screens"
"$BIN/registry-demo" --workdir "$WORK/network" --keep-running > "$WORK/demo.log" 2>&1 &
DEMO=$!
trap 'tmux kill-session -t $SESSION 2>/dev/null || true; kill $DEMO 2>/dev/null || true; wait $DEMO 2>/dev/null || true' EXIT
for _ in $(seq 120); do
  grep -q "keeps running" "$WORK/demo.log" && break
  kill -0 $DEMO 2>/dev/null || { cat "$WORK/demo.log"; exit 1; }
  sleep 0.5
done
ADDRESS="127.0.0.1:$(cat "$WORK/network/registry.port")"
echo "demonstration registry at $ADDRESS (mutual TLS)"

tmux kill-session -t $SESSION 2>/dev/null || true
tmux new-session -d -s $SESSION -x 80 -y 24 \
  "SYNC_AGENT_REGISTRY=$ADDRESS $BIN/registry-tui --home $WORK/network/uk.ac.taff"

step=0
keys() { tmux send-keys -t $SESSION "$@"; sleep "${PAUSE:-0.6}"; }
type() { tmux send-keys -t $SESSION -l "$1"; sleep 0.4; }
shot() {
  step=$((step + 1))
  local file="$WORK/screens/$(printf %02d $step)-$1.txt"
  tmux capture-pane -p -t $SESSION > "$file"
  printf '\n=== %s: %s ===\n' "$step" "$2"
  cat "$file"
}

sleep 3
shot catalogue "Taff's micro-credentials, from the agent's local store"
keys 3
shot agreements "Agreements, with the filters by partner, status and validity"
keys n
type "AG-WALK"; keys Tab
type "Forth ethics or Lagan analytics into CS7DE"; keys Tab
type "any of uk.ac.forth/FOR-DE01, (all of uk.ac.lagan/LAG-DA01, uk.ac.lagan/LAG-CY0"
shot typing "The form names what is wrong while typing (a bracket is not closed yet)"
type "1)"; keys Tab
type "CS7DE"
shot form-ready "Valid: the source tree shows the nested group"
keys C-s
shot saved "Saved in the store; waiting to be published"
PAUSE=3 keys s
keys 4
shot synced "Sync tab: the progress bar, the registry's checkpoint and the history"
keys 7
type "uk.ac.lagan/LAG-DA01:PASS_FAIL=PASS, uk.ac.lagan/LAG-CY01:PASS_FAIL=PASS"; keys Tab
type "uk.ac.taff"; PAUSE=2 keys Enter
shot explorer "The registry's answer, with provenance, for a Lagan learner"
keys Escape  # out of the text box: s and 5 act again

# Forth proposes a bilateral agreement to Taff; Taff's registrar reads its terms first.
cat > "$WORK/terms.json" <<'TERMS'
{"key": "ART-WALK", "title": "Taff Applied Machine Learning into Forth F21ML",
 "source": {"operator": "GROUP_OPERATOR_ALL_OF",
            "items": [{"credential": {"institutionId": "uk.ac.taff", "key": "TAF-ML01"}}]},
 "grant": {"unitKey": "F21ML"},
 "conditions": {"minimumGrade": {"scheme": "UK_LETTER", "value": "C"},
                "validFrom": "2026-09-01"}}
TERMS
SYNC_AGENT_REGISTRY=$ADDRESS $BIN/sync-agent --home "$WORK/network/uk.ac.forth" \
  bilateral propose "$WORK/terms.json" --partner uk.ac.taff > "$WORK/propose.log"
PAUSE=3 keys s
keys 5
shot bilateral "Bilateral: Forth's proposal awaits Taff's decision"
PAUSE=1 keys Enter
shot terms "Its terms, in the form's words, before anything is signed (y signs, n closes)"
keys Escape
keys q
echo
echo "screens saved in $WORK/screens/"
