# shellcheck shell=bash
# Settings and constants set here are read by the scripts that source it.
# shellcheck disable=SC2034
#
# Shared by setup.sh, deploy.sh and teardown.sh: the settings (declared once,
# here, with their defaults), their validation, and `run`, which prints a
# command in a dry run and runs it otherwise. Sourced, never executed.

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "${INFRA_DIR}/.." && pwd)
SCHEMA_DIR="${INFRA_DIR}/schema"

DRY_RUN=false
# What a dry run pretends `exists` found: setup and deploy show the create
# path, teardown the delete path.
DRY_RUN_ASSUMES_PRESENT=false

# A dry run prints its commands on stdout even from inside $(...), where
# stdout is captured; fd 3 stays the script's own stdout.
exec 3>&1

# Prints the calling script's usage header (its comment block) and exits
# with $1, 2 by default.
usage() {
  sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

# ---------------------------------------------------------------------------
# Settings. Precedence: environment, then the settings file, then the default
# below. Every name here is documented in settings.env.example; a test keeps
# the two lists equal.

SETTING_NAMES=()
declare -A SETTING_DEFAULTS=()

setting() {
  SETTING_NAMES+=("$1")
  SETTING_DEFAULTS["$1"]=$2
}

# Where everything lives.
setting PROJECT_ID ''
setting REGION ''
setting PROJECT_NUMBER ''
setting BIGQUERY_LOCATION ''
# Names.
setting ARTIFACT_REPOSITORY 'ingest'
setting GATEWAY_SERVICE 'ingest-gateway'
setting GATEWAY_IMAGE_TAG ''
setting FUNCTION_NAME 'ingest-batch'
setting PUBSUB_TOPIC 'ingest-batches'
setting DEAD_LETTER_TOPIC 'ingest-batches-dead-letter'
setting DEAD_LETTER_SUBSCRIPTION 'ingest-batches-dead-letter-hold'
setting PUSH_SUBSCRIPTION 'ingest-batches-to-function'
setting FUNCTION_URL ''
setting BIGQUERY_DATASET 'ingest'
setting BIGQUERY_TABLE 'items'
setting BIGQUERY_ERRORS_TABLE 'items_errors'
setting BIGQUERY_DEDUP_VIEW 'items_dedup'
setting GATEWAY_ACCOUNT 'ingest-gateway'
setting FUNCTION_ACCOUNT 'ingest-function'
setting INVOKER_ACCOUNT 'ingest-push-invoker'
# How batches reach the function.
setting DELIVERY 'push'
setting ACK_DEADLINE_SECONDS '120'
setting MIN_RETRY_DELAY_SECONDS '10'
setting MAX_RETRY_DELAY_SECONDS '600'
setting MAX_DELIVERY_ATTEMPTS '10'
setting DEAD_LETTER_RETENTION '7d'
# The gateway.
setting GATEWAY_PORT '8080'
setting GATEWAY_HEALTH_SERVICE ''
setting GATEWAY_CONCURRENCY '100'
setting GATEWAY_MIN_INSTANCES '0'
setting GATEWAY_MAX_INSTANCES '10'
setting GATEWAY_CPU '1'
setting GATEWAY_MEMORY '512Mi'
setting GATEWAY_MAX_STREAM_DURATION_MS '3000000'
setting PUBLISH_TIMEOUT_MS '10000'
setting GATEWAY_TIMEOUT_MARGIN_SECONDS '30'
setting GATEWAY_INVOKERS ''
setting GATEWAY_EXTRA_ENV ''
setting BATCH_MAX_BYTES ''
# The function.
setting FUNCTION_TIMEOUT_SECONDS '90'
setting FUNCTION_CONCURRENCY '4'
setting FUNCTION_MAX_INSTANCES '10'
setting FUNCTION_CPU '1'
setting FUNCTION_MEMORY '512Mi'
setting FUNCTION_EXTRA_ENV ''
# Emulators (tests only).
setting BQ_API ''

# The Cloud Run request timeout cannot exceed an hour.
readonly CLOUD_RUN_MAX_TIMEOUT_SECONDS=3600
# A push subscription's ack deadline is at most 600 s.
readonly PUBSUB_MAX_ACK_DEADLINE_SECONDS=600
# Eventarc refuses events over 512 KB. A Pub/Sub event carries the data
# base64-encoded (4 bytes per 3) in a JSON body with the attributes: 360 KiB
# of envelope becomes 480 KiB, leaving 32 KiB for the rest. The gateway's
# own default for BATCH_MAX_BYTES rests on the same arithmetic.
readonly EVENTARC_MAX_BATCH_BYTES=368640

# Loads the settings file (INGEST_SETTINGS_FILE, else infra/settings.env if
# present) under the environment, then fills in defaults.
load_settings() {
  local name file="${INGEST_SETTINGS_FILE:-${INFRA_DIR}/settings.env}"
  declare -A from_env=()
  for name in "${SETTING_NAMES[@]}"; do
    if [[ -v "${name}" ]]; then
      from_env["${name}"]=${!name}
    fi
  done

  if [[ -f "${file}" ]]; then
    # shellcheck source=/dev/null
    source "${file}"
  elif [[ -v INGEST_SETTINGS_FILE ]]; then
    die "settings file ${file} (INGEST_SETTINGS_FILE) does not exist"
  fi

  for name in "${!from_env[@]}"; do
    printf -v "${name}" '%s' "${from_env[${name}]}"
  done
  for name in "${SETTING_NAMES[@]}"; do
    if [[ ! -v "${name}" ]]; then
      printf -v "${name}" '%s' "${SETTING_DEFAULTS[${name}]}"
    fi
  done

  if [[ -z "${BIGQUERY_LOCATION}" ]]; then
    BIGQUERY_LOCATION=${REGION}
  fi
  BQ=(bq --project_id="${PROJECT_ID}" --quiet)
  if [[ -n "${BQ_API}" ]]; then
    BQ+=(--api="${BQ_API}")
  fi
}

die() {
  echo "error: $*" >&2
  exit 1
}

require_setting() {
  local name=$1 hint=$2
  if [[ -z "${!name}" ]]; then
    die "${name} is not set: ${hint} (in infra/settings.env or the environment)"
  fi
}

require_integer() {
  local name=$1 min=$2 max=$3 value=${!1}
  if [[ ! "${value}" =~ ^[0-9]+$ ]] || ((value < min || value > max)); then
    die "${name} must be an integer from ${min} to ${max}, got '${value}'"
  fi
}

require_one_of() {
  local name=$1 value=${!1} allowed
  shift
  for allowed in "$@"; do
    if [[ "${value}" == "${allowed}" ]]; then
      return 0
    fi
  done
  die "${name} must be one of: $*; got '${value}'"
}

# Resource ids end up unquoted in flags such as --set-env-vars=A=x,B=y, so
# they are held to the strictest common Google Cloud naming rule.
require_name() {
  local name=$1 value=${!1}
  if [[ ! "${value}" =~ ^[a-zA-Z][a-zA-Z0-9_-]{0,62}$ ]]; then
    die "${name} must start with a letter and hold only letters, digits," \
      "'-' or '_' (at most 63), got '${value}'"
  fi
}

# KEY=VALUE,KEY=VALUE pass-through lists; a comma inside a value would split it.
require_env_list() {
  local name=$1 value=${!1} pair
  if [[ -z "${value}" ]]; then
    return 0
  fi
  local -a pairs
  IFS=',' read -r -a pairs <<<"${value}"
  for pair in "${pairs[@]}"; do
    if [[ ! "${pair}" =~ ^[A-Z_][A-Z0-9_]*=[^,]*$ ]]; then
      die "${name} must be KEY=VALUE pairs separated by commas, got '${pair}'"
    fi
  done
}

# Settings every script needs.
validate_common_settings() {
  require_setting PROJECT_ID 'the Google Cloud project id, e.g. my-project'
  require_setting REGION 'the region for every resource, e.g. europe-west1'
  if [[ -n "${PROJECT_NUMBER}" && ! "${PROJECT_NUMBER}" =~ ^[0-9]+$ ]]; then
    die "PROJECT_NUMBER must be digits, got '${PROJECT_NUMBER}'"
  fi
  local name
  for name in ARTIFACT_REPOSITORY GATEWAY_SERVICE FUNCTION_NAME PUBSUB_TOPIC \
    DEAD_LETTER_TOPIC DEAD_LETTER_SUBSCRIPTION PUSH_SUBSCRIPTION \
    BIGQUERY_DATASET BIGQUERY_TABLE BIGQUERY_ERRORS_TABLE \
    BIGQUERY_DEDUP_VIEW GATEWAY_ACCOUNT FUNCTION_ACCOUNT INVOKER_ACCOUNT; do
    require_name "${name}"
  done
  require_one_of DELIVERY push eventarc
}

# ---------------------------------------------------------------------------
# Derived names.

account_email() {
  echo "$1@${PROJECT_ID}.iam.gserviceaccount.com"
}

pubsub_service_agent() {
  echo "service-$1@gcp-sa-pubsub.iam.gserviceaccount.com"
}

gateway_image() {
  echo "${REGION}-docker.pkg.dev/${PROJECT_ID}/${ARTIFACT_REPOSITORY}/${GATEWAY_SERVICE}:$1"
}

# ---------------------------------------------------------------------------
# Running commands.

# One command per line, each word quoted only if it needs it, so the line
# reads naturally and can be pasted back into a shell.
print_command() {
  local word quoted line=''
  for word in "$@"; do
    if [[ "${word}" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      quoted=${word}
    elif [[ "${word}" == *$'\n'* ]]; then
      # $'...' keeps a multi-line value (a view's SQL) on one line.
      printf -v quoted '%q' "${word}"
    else
      quoted="'${word//\'/\'\\\'\'}'"
    fi
    line+="${quoted} "
  done
  echo "${line% }" >&3
}

# Runs a command that changes something; a dry run only prints it.
run() {
  if [[ "${DRY_RUN}" == true ]]; then
    print_command "$@"
    return 0
  fi
  print_command "$@" 3>&2
  "$@"
}

# Runs a read-only check and reports whether it succeeded, hiding its output.
# A dry run prints it and answers as DRY_RUN_ASSUMES_PRESENT says.
exists() {
  if [[ "${DRY_RUN}" == true ]]; then
    print_command "$@"
    [[ "${DRY_RUN_ASSUMES_PRESENT}" == true ]]
    return
  fi
  "$@" >/dev/null 2>&1
}

# Prints a command's output for $(...); a dry run prints the command and
# answers with the placeholder.
capture() {
  local placeholder=$1
  shift
  if [[ "${DRY_RUN}" == true ]]; then
    print_command "$@"
    echo "${placeholder}"
    return 0
  fi
  "$@"
}

log() {
  echo "== $*" >&2
}

# The `bq` command line with its global flags, pointed at BQ_API when set
# (the BigQuery emulator in tests); set by load_settings. An array rather
# than a function, so that a dry run prints the real command.
BQ=()

# The project number names the Pub/Sub service agent; looked up once.
project_number() {
  if [[ -z "${PROJECT_NUMBER}" ]]; then
    PROJECT_NUMBER=$(capture PROJECT_NUMBER gcloud projects describe \
      "${PROJECT_ID}" --format='value(projectNumber)')
  fi
  echo "${PROJECT_NUMBER}"
}

# ---------------------------------------------------------------------------
# Step selection: each script is a list of named steps; --only picks some.

# Sets SELECTED_STEPS from a comma list, checked against the script's steps,
# in the script's order whatever the order of the list.
select_steps() {
  local only=$1 step
  shift
  local -a all=("$@") chosen
  if [[ -z "${only}" ]]; then
    SELECTED_STEPS=("${all[@]}")
    return 0
  fi
  IFS=',' read -r -a chosen <<<"${only}"
  for step in "${chosen[@]}"; do
    if ! contains "${step}" "${all[@]}"; then
      die "unknown step '${step}'; steps: ${all[*]}"
    fi
  done
  SELECTED_STEPS=()
  for step in "${all[@]}"; do
    if contains "${step}" "${chosen[@]}"; then
      SELECTED_STEPS+=("${step}")
    fi
  done
}

step_selected() {
  contains "$1" "${SELECTED_STEPS[@]}"
}

# Whether the first argument equals any of the others.
contains() {
  local wanted=$1 candidate
  shift
  for candidate in "$@"; do
    if [[ "${candidate}" == "${wanted}" ]]; then
      return 0
    fi
  done
  return 1
}
