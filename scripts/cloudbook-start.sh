#!/usr/bin/env bash
# cloudbook-start.sh: one tmux session with five titled, coloured panes (maker, deployer,
# launcher, agent, dashboard), each in its folder with its usage printed: the Linux form of the
# original's cb_start.bat, which opened four coloured consoles. Works from any directory;
# the repository's build/bin comes first in every pane's PATH. docs/start-script.md.
set -euo pipefail

readonly EXIT_OK=0 EXIT_USAGE=2 EXIT_NO_TMUX=3 EXIT_TMUX_FAILED=4

usage() {
  cat <<'EOF'
Usage: cloudbook-start.sh [--project-folder P] [--session NAME] [--attach|--no-attach]
                          [--socket NAME]

Opens a tmux session with five titled, coloured panes, each with its usage printed:
  maker     in P          cut the network into subnets and deployable units
  deployer  in P          assign the deployable units to the agents, watch them
  launcher  in P          run the program across the agents, compose the result
  agent     in P/agents   create and launch this machine's agents
  dashboard in P          the project's web page: agents, live stats, curves, results

Options:
  -p, --project-folder P  the project folder (default: the current directory)
  -s, --session NAME      tmux session name (default: cloudbook-<name of P>)
      --attach            attach to the session (the default on a terminal)
      --no-attach         leave it running in the background and say how to attach
                          (the default without a terminal)
      --socket NAME       use a private tmux server (tmux -L NAME); also from the
                          environment as CLOUDBOOK_TMUX_SOCKET
  -h, --help              this text

A session of that name that already exists is attached to (never duplicated).
The commands come from ${CLOUDBOOK_BUILD_DIR:-<repository>/build}/bin.
Exit codes: 0 success, 2 bad arguments, 3 tmux missing, 4 tmux failed.
EOF
}

die() {  # die CODE MESSAGE
  echo "cloudbook-start: $2" >&2
  exit "$1"
}

# The repository, from this script's own path (following symlinks to it).
script_path() {
  local source="${BASH_SOURCE[0]}"
  while [[ -L "$source" ]]; do
    local target
    target="$(readlink "$source")"
    [[ "$target" == /* ]] || target="${source%/*}/$target"
    source="$target"
  done
  [[ "$source" == */* ]] || source="./$source"
  echo "$(cd "${source%/*}" && pwd -P)/${source##*/}"
}
SELF="$(script_path)"
REPO="$(cd "${SELF%/*}/.." && pwd -P)"
BIN_DIR="${CLOUDBOOK_BUILD_DIR:-$REPO/build}/bin"
readonly SELF REPO BIN_DIR

# ---- what each pane prints (run inside the pane: --pane-usage ROLE P) ----------------

colour_of() {
  case "$1" in
    maker) echo 117 ;;
    deployer) echo 120 ;;
    launcher) echo 222 ;;
    agent) echo 213 ;;
    dashboard) echo 159 ;;
  esac
}

pane_usage() {  # pane_usage ROLE PROJECT
  local role="$1" p="$2" colour bold reset dim
  colour=$'\e[1;38;5;'"$(colour_of "$role")"'m'
  bold=$'\e[1m' reset=$'\e[0m' dim=$'\e[2m'
  local q
  q="$(printf '%q' "$p")"
  local binary
  case "$role" in
    maker) binary=cloudbook-maker ;;
    deployer) binary=cloudbook-deployer ;;
    launcher) binary=cloudbook-run ;;
    agent) binary=cloudbook-agent ;;
    dashboard) binary=cloudbook-dashboard ;;
    *) die "$EXIT_USAGE" "unknown pane role '$role'" ;;
  esac
  printf '%s== cloudbook %s ==%s\n' "$colour" "$role" "$reset"
  case "$role" in
    maker)
      cat <<EOF
Cuts the network of original/<name>.yaml into subnets; writes the
deployable units to distributed/du_files/.
  ${bold}cloudbook-maker --project-folder $q --subnets 3${reset}
  cloudbook-maker -p $q -n 3 --local --baseline
      (also trains here, composes, compares with the original)
  more: --program --dus --train-limit --test-limit --jobs --threads
  cloudbook-maker --help        every option, exit codes
EOF
      ;;
    deployer)
      cat <<EOF
Waits for the agents, assigns the deployable units to them
(distributed/assignment.json), and with -s watches them every SECONDS,
moving a lost agent's units to live ones.
  ${bold}cloudbook-deployer --project-folder $q -s 5${reset}
  cloudbook-deployer --project-folder $q --fast-start
      (assigns at once, without waiting for announcements)
  cloudbook-deployer --help
EOF
      ;;
    launcher)
      cat <<EOF
Asks agent 0 to run the program: every unit trains on its agent, the
predictions are composed; progress per unit while it runs, metrics at
the end (distributed/results/<run>.json).
  ${bold}cloudbook-run --project-folder $q${reset}
  cloudbook-run --help
EOF
      ;;
    agent)
      cat <<EOF
Lends this machine to the project: create an agent once, then launch
it (foreground, Ctrl-C stops it). Configs with secret keys live here.
  ${bold}cloudbook-agent create --project-folder $q --grant HIGH --agent-0${reset}
  cloudbook-agent create -p $q --grant MEDIUM      (prints the new id)
  ${bold}cloudbook-agent launch --project-folder $q --agent-id agent-0${reset}
  cloudbook-agent list -p $q
  cloudbook-agent edit|stop -p $q --agent-id ID [--grant LOW]
  cloudbook-agent --help        grants: LOW 1 core, MEDIUM half, HIGH all
EOF
      ;;
    dashboard)
      cat <<EOF
Serves the project's page: agents of every machine with launch / stop /
grant / remove buttons, live CPU, memory and network charts, training
curves per DU, results of past runs. Open the printed URL in a browser.
  ${bold}cloudbook-dashboard --project-folder $q${reset}
  cloudbook-dashboard -p $q --listen 0.0.0.0:8750   (other machines: token)
  cloudbook-dashboard --help
EOF
      ;;
  esac
  if ! command -v "$binary" >/dev/null 2>&1; then
    printf '%snote: %s is not built yet (scripts/build.sh builds it into %s)%s\n' \
      "$dim" "$binary" "$BIN_DIR" "$reset"
  fi
  echo
}

if [[ "${1:-}" == "--pane-usage" ]]; then
  [[ $# -eq 3 ]] || die "$EXIT_USAGE" "--pane-usage ROLE PROJECT (used inside the panes)"
  pane_usage "$2" "$3"
  exit "$EXIT_OK"
fi

# ---- arguments ---------------------------------------------------------------------

project=""
session=""
attach=""  # "", yes, no
socket="${CLOUDBOOK_TMUX_SOCKET:-}"

need_value() {  # need_value OPTION REMAINING_COUNT
  [[ "$2" -ge 2 ]] || die "$EXIT_USAGE" "$1 needs a value (see --help)"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      usage
      exit "$EXIT_OK"
      ;;
    -p | --project-folder)
      need_value "$1" $#
      project="$2"
      shift 2
      ;;
    --project-folder=*)
      project="${1#*=}"
      shift
      ;;
    -s | --session)
      need_value "$1" $#
      session="$2"
      shift 2
      ;;
    --session=*)
      session="${1#*=}"
      shift
      ;;
    --socket)
      need_value "$1" $#
      socket="$2"
      shift 2
      ;;
    --socket=*)
      socket="${1#*=}"
      shift
      ;;
    --attach)
      attach=yes
      shift
      ;;
    --no-attach)
      attach=no
      shift
      ;;
    *) die "$EXIT_USAGE" "unknown argument '$1' (see --help)" ;;
  esac
done

project="${project:-$PWD}"
[[ -d "$project" ]] ||
  die "$EXIT_USAGE" "project folder '$project' does not exist (make it, with the program in $project/original/)"
project="$(cd "$project" && pwd -P)"
if [[ ! -d "$project/original" && ! -d "$project/distributed" ]]; then
  echo "cloudbook-start: note: $project has neither original/ nor distributed/ yet" >&2
fi

if [[ -z "$session" ]]; then
  base="${project##*/}"
  base="${base//[^A-Za-z0-9_-]/_}"
  session="cloudbook-${base:-project}"
fi
[[ "$session" =~ ^[A-Za-z0-9_-]{1,64}$ ]] ||
  die "$EXIT_USAGE" "session name '$session': use 1-64 letters, digits, '_' or '-'"
[[ -z "$socket" || "$socket" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] ||
  die "$EXIT_USAGE" "socket name '$socket': use 1-64 letters, digits, '.', '_' or '-'"

have_terminal=no
[[ -t 0 && -t 1 ]] && have_terminal=yes
if [[ "$attach" == yes && "$have_terminal" == no ]]; then
  echo "cloudbook-start: no terminal to attach from: starting the session in the background" >&2
  attach=no
fi
[[ -n "$attach" ]] || attach="$have_terminal"

# ---- tmux --------------------------------------------------------------------------

tmux_binary="${CLOUDBOOK_TMUX:-tmux}"
command -v "$tmux_binary" >/dev/null 2>&1 ||
  die "$EXIT_NO_TMUX" "tmux is not installed: sudo apt-get install tmux (or run $REPO/scripts/install-deps.sh)"

tmux_command=("$tmux_binary")
[[ -z "$socket" ]] || tmux_command+=(-L "$socket")
tm() { "${tmux_command[@]}" "$@"; }

attach_command() {  # how a user attaches, as one line
  local line="tmux"
  [[ -z "$socket" ]] || line+=" -L $socket"
  echo "$line attach -t $session"
}

attach_or_say() {  # attach_or_say WHAT ("started" or "exists")
  if [[ "$attach" == no ]]; then
    if [[ "$1" == exists ]]; then
      echo "cloudbook-start: session '$session' exists already; attach with: $(attach_command)"
    else
      echo "cloudbook-start: session '$session' started in the background; attach with: $(attach_command)"
    fi
    exit "$EXIT_OK"
  fi
  if [[ -n "${TMUX:-}" && -z "$socket" ]]; then
    exec "${tmux_command[@]}" switch-client -t "=$session"
  fi
  TMUX="" exec "${tmux_command[@]}" attach-session -t "=$session"
}

if tm has-session -t "=$session" 2>/dev/null; then
  attach_or_say exists
fi

mkdir -p "$project/agents"
chmod 700 "$project/agents" 2>/dev/null || true
pane_path="$BIN_DIR:$PATH"

# The command each pane starts with (run by this bash, not by tmux's default-shell, which is
# $SHELL): print its usage, then an interactive shell. PATH is set here because tmux gives a
# pane started from the command line the client's PATH, whatever -e says.
pane_command() {  # pane_command ROLE
  printf 'export PATH=%q; %q --pane-usage %q %q; exec %q -i' "$pane_path" "$SELF" "$1" \
    "$project" "$pane_shell"
}
pane_shell="${SHELL:-/bin/bash}"
case "$pane_shell" in */nologin | */false) pane_shell=/bin/bash ;; esac
[[ -x "$pane_shell" ]] || pane_shell=/bin/bash

# The detached session takes the terminal's size (a client attaching later resizes it).
width=160 height=48
if [[ "$have_terminal" == yes ]] && size="$(stty size 2>/dev/null)" &&
  [[ "$size" =~ ^([0-9]+)\ ([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 10 && BASH_REMATCH[2] >= 40)); then
  height="${BASH_REMATCH[1]}" width="${BASH_REMATCH[2]}"
fi

if ! maker="$(tm new-session -d -P -F '#{pane_id}' -s "$session" -n cloudbook \
  -x "$width" -y "$height" -c "$project" "$BASH" -c "$(pane_command maker)" 2>&1)"; then
  # Another start may have created it between our check and now: use that one.
  if tm has-session -t "=$session" 2>/dev/null; then attach_or_say exists; fi
  die "$EXIT_TMUX_FAILED" "tmux could not create session '$session': $maker"
fi

split() {  # split TARGET -h|-v DIRECTORY ROLE: prints the new pane's id
  tm split-window -d -P -F '#{pane_id}' -t "$1" "$2" -c "$3" "$BASH" -c "$(pane_command "$4")"
}

set_up() {
  local -A pane=([maker]="$maker")
  pane[deployer]="$(split "$maker" -h "$project" deployer)"
  pane[launcher]="$(split "$maker" -v "$project" launcher)"
  pane[agent]="$(split "${pane[deployer]}" -v "$project/agents" agent)"
  pane[dashboard]="$(split "${pane[launcher]}" -h "$project" dashboard)"
  # New windows and panes opened later in this session get build/bin first too.
  tm set-environment -t "=$session" PATH "$pane_path"
  tm set-option -w -t "$maker" pane-border-status top
  tm set-option -w -t "$maker" pane-border-format \
    ' #[fg=colour#{@cloudbook_colour},bold]#{@cloudbook_role}#[default] #{pane_current_path} '
  local role colour
  for role in maker deployer launcher agent dashboard; do
    colour="$(colour_of "$role")"
    tm select-pane -t "${pane[$role]}" -T "$role"
    tm set-option -p -t "${pane[$role]}" @cloudbook_role "$role"
    tm set-option -p -t "${pane[$role]}" @cloudbook_colour "$colour"
    tm set-option -p -t "${pane[$role]}" window-style "fg=colour$colour,bg=colour234"
    tm set-option -p -t "${pane[$role]}" window-active-style "fg=colour$colour,bg=colour233"
  done
  tm select-pane -t "$maker"
}

set -o errtrace
trap 'trap - ERR
      tm kill-session -t "=$session" 2>/dev/null || true
      die "$EXIT_TMUX_FAILED" "tmux could not set up session $session (see the error above)"' ERR
set_up
trap - ERR
attach_or_say started
