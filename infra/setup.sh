#!/usr/bin/env bash
#
# Usage: infra/setup.sh [--dry-run] [--only STEP[,STEP...]]
#
# One-time preparation of a Google Cloud project for the ingest pipeline:
#   apis      enables the services the pipeline uses
#   registry  creates the Artifact Registry repository for the gateway image
#   accounts  creates the gateway, function and push-invoker service accounts
#   pubsub    creates the batch topic, the dead-letter topic and a pull
#             subscription that holds dead-lettered batches for inspection
#   bigquery  creates the dataset, the items and errors tables (partitioned
#             by day, items clustered by stream_id) and the dedup view, as
#             infra/schema/tables.json declares them
#   iam       grants each account only what it needs, on the one resource
#             it needs it for
#
# Settings come from the environment, then infra/settings.env (or the file
# INGEST_SETTINGS_FILE names); see infra/settings.env.example.
#
# Safe to rerun: every resource is described first and created only if
# absent; an existing table gets its schema updated (columns may only be
# added), an existing view its query; IAM bindings are set, not appended.
#
#   --dry-run  print every gcloud/bq command, one per line, and run none
#              (checks print too, and are taken to find nothing)
#   --only     run just the named steps, in the order above
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly STEPS=(apis registry accounts pubsub bigquery iam)

parse_arguments() {
  local only=''
  while (($# > 0)); do
    case "$1" in
      --dry-run) DRY_RUN=true ;;
      --only) only=${2:?--only needs a list of steps}; shift ;;
      --only=*) only=${1#--only=} ;;
      -h | --help) usage 0 ;;
      *) echo "unknown argument: $1" >&2; usage ;;
    esac
    shift
  done
  select_steps "${only}" "${STEPS[@]}"
}

enable_apis() {
  log 'enabling APIs'
  run gcloud services enable \
    run.googleapis.com \
    cloudfunctions.googleapis.com \
    cloudbuild.googleapis.com \
    artifactregistry.googleapis.com \
    pubsub.googleapis.com \
    bigquery.googleapis.com \
    eventarc.googleapis.com \
    iam.googleapis.com \
    --project="${PROJECT_ID}"
}

create_registry() {
  log "Artifact Registry repository ${ARTIFACT_REPOSITORY}"
  if ! exists gcloud artifacts repositories describe "${ARTIFACT_REPOSITORY}" \
    --location="${REGION}" --project="${PROJECT_ID}"; then
    run gcloud artifacts repositories create "${ARTIFACT_REPOSITORY}" \
      --repository-format=docker \
      --location="${REGION}" \
      --description='Images of the ingest gateway' \
      --project="${PROJECT_ID}"
  fi
}

create_account() {
  local id=$1 display_name=$2
  if ! exists gcloud iam service-accounts describe "$(account_email "${id}")" \
    --project="${PROJECT_ID}"; then
    run gcloud iam service-accounts create "${id}" \
      --display-name="${display_name}" \
      --project="${PROJECT_ID}"
  fi
}

create_accounts() {
  log 'service accounts'
  create_account "${GATEWAY_ACCOUNT}" 'Ingest gateway (publishes batches)'
  create_account "${FUNCTION_ACCOUNT}" 'Ingest function (writes rows)'
  create_account "${INVOKER_ACCOUNT}" 'Ingest push invoker (calls the function)'
}

create_topic() {
  local topic=$1
  if ! exists gcloud pubsub topics describe "${topic}" \
    --project="${PROJECT_ID}"; then
    # No Pub/Sub schema is attached. A schema makes Pub/Sub parse every
    # message as the declared protobuf, but the gateway may gzip the data
    # (the content-encoding attribute says so), and a gzipped envelope is
    # not a protobuf: Pub/Sub would refuse exactly those batches. The
    # function checks the schema attribute and decodes, dead-lettering what
    # it cannot read, which covers both encodings.
    run gcloud pubsub topics create "${topic}" --project="${PROJECT_ID}"
  fi
}

create_pubsub() {
  log "Pub/Sub topics ${PUBSUB_TOPIC} and ${DEAD_LETTER_TOPIC}"
  create_topic "${PUBSUB_TOPIC}"
  create_topic "${DEAD_LETTER_TOPIC}"

  # A topic keeps nothing by itself: without a subscription, dead-lettered
  # batches would be dropped the moment Pub/Sub forwards them.
  if ! exists gcloud pubsub subscriptions describe \
    "${DEAD_LETTER_SUBSCRIPTION}" --project="${PROJECT_ID}"; then
    run gcloud pubsub subscriptions create "${DEAD_LETTER_SUBSCRIPTION}" \
      --topic="${DEAD_LETTER_TOPIC}" \
      --message-retention-duration="${DEAD_LETTER_RETENTION}" \
      --expiration-period=never \
      --project="${PROJECT_ID}"
  fi
}

# infra/schema/tables.json declares each table and view (schema or SQL file,
# partitioning, clustering, description) for this script and the function
# alike. Printed one per line, fields separated by the unit separator so that
# empty fields survive `read`: key, kind (table or view), file, partition
# type, partition field, clustering fields, description.
readonly FIELD_SEPARATOR=$'\x1f'

table_specs() {
  node -e '
    const fs = require("node:fs");
    const specs = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    for (const [key, spec] of Object.entries(specs)) {
      const fields = [
        key,
        spec.view === undefined ? "table" : "view",
        spec.view ?? spec.schema,
        spec.timePartitioning?.type ?? "",
        spec.timePartitioning?.field ?? "",
        (spec.clustering?.fields ?? []).join(","),
        spec.description ?? "",
      ];
      console.log(fields.join(process.argv[2]));
    }
  ' "${SCHEMA_DIR}/tables.json" "${FIELD_SEPARATOR}"
}

# The settings name the tables; tables.json knows them by their defaults.
table_name() {
  case "$1" in
    items) echo "${BIGQUERY_TABLE}" ;;
    items_errors) echo "${BIGQUERY_ERRORS_TABLE}" ;;
    items_dedup) echo "${BIGQUERY_DEDUP_VIEW}" ;;
    *) die "infra/schema/tables.json declares '$1', which no setting names" ;;
  esac
}

# Creates a table, or adds new columns to an existing one (BigQuery refuses
# any other change, so an incompatible schema fails loudly here).
create_table() {
  local ref=$1 schema=$2 partition_type=$3 partition_field=$4 clustering=$5
  local description=$6
  if exists "${BQ[@]}" show --format=none "${ref}"; then
    run "${BQ[@]}" update --schema="${schema}" "${ref}"
    return 0
  fi
  local -a flags=(--table --schema="${schema}" --description="${description}")
  if [[ -n "${partition_type}" ]]; then
    flags+=(--time_partitioning_type="${partition_type}")
  fi
  if [[ -n "${partition_field}" ]]; then
    flags+=(--time_partitioning_field="${partition_field}")
  fi
  if [[ -n "${clustering}" ]]; then
    flags+=(--clustering_fields="${clustering}")
  fi
  run "${BQ[@]}" mk "${flags[@]}" "${ref}"
}

# The view's SQL names its table through placeholders, so the same file
# serves every project and dataset. They are literal text, hence the single
# quotes.
# shellcheck disable=SC2016
view_sql() {
  local sql
  sql=$(<"$1")
  sql=${sql//'${PROJECT_ID}'/${PROJECT_ID}}
  sql=${sql//'${BIGQUERY_DATASET}'/${BIGQUERY_DATASET}}
  sql=${sql//'${BIGQUERY_TABLE}'/${BIGQUERY_TABLE}}
  echo "${sql}"
}

create_view() {
  local ref=$1 file=$2 description=$3 sql
  sql=$(view_sql "${file}")
  if exists "${BQ[@]}" show --format=none "${ref}"; then
    run "${BQ[@]}" update --use_legacy_sql=false --view="${sql}" \
      --description="${description}" "${ref}"
  else
    run "${BQ[@]}" mk --use_legacy_sql=false --view="${sql}" \
      --description="${description}" "${ref}"
  fi
}

create_bigquery() {
  log "BigQuery dataset ${BIGQUERY_DATASET} in ${BIGQUERY_LOCATION}"
  local dataset="${PROJECT_ID}:${BIGQUERY_DATASET}"
  if ! exists "${BQ[@]}" show --format=none --dataset "${dataset}"; then
    run "${BQ[@]}" --location="${BIGQUERY_LOCATION}" mk --dataset \
      --description='Items ingested over gRPC, one row per item' \
      "${dataset}"
  fi

  local specs key kind file partition_type partition_field clustering
  local description ref
  specs=$(table_specs)
  # Tables first: a view can only be created once its table exists.
  for kind in table view; do
    while IFS=${FIELD_SEPARATOR} read -r key kind_of_entry file \
      partition_type partition_field clustering description; do
      [[ "${kind_of_entry}" == "${kind}" ]] || continue
      ref="${dataset}.$(table_name "${key}")"
      if [[ "${kind}" == table ]]; then
        create_table "${ref}" "${SCHEMA_DIR}/${file}" "${partition_type}" \
          "${partition_field}" "${clustering}" "${description}"
      else
        create_view "${ref}" "${SCHEMA_DIR}/${file}" "${description}"
      fi
    done <<<"${specs}"
  done
}

grant_iam() {
  log 'IAM bindings, each on its one resource'
  local agent
  agent=$(pubsub_service_agent "$(project_number)")

  # The gateway publishes batches, to the batch topic only.
  run gcloud pubsub topics add-iam-policy-binding "${PUBSUB_TOPIC}" \
    --member="serviceAccount:$(account_email "${GATEWAY_ACCOUNT}")" \
    --role=roles/pubsub.publisher \
    --project="${PROJECT_ID}"

  # Dead-lettering is done by Pub/Sub itself, as its service agent: it
  # publishes to the dead-letter topic (the subscriber half is granted on the
  # push subscription, which deploy.sh creates).
  run gcloud pubsub topics add-iam-policy-binding "${DEAD_LETTER_TOPIC}" \
    --member="serviceAccount:${agent}" \
    --role=roles/pubsub.publisher \
    --project="${PROJECT_ID}"

  # The function writes rows to its two tables. Granted per table rather than
  # on the dataset: streaming inserts need nothing else, and the view and any
  # table added later stay out of its reach.
  local table
  for table in "${BIGQUERY_TABLE}" "${BIGQUERY_ERRORS_TABLE}"; do
    run "${BQ[@]}" add-iam-policy-binding \
      --member="serviceAccount:$(account_email "${FUNCTION_ACCOUNT}")" \
      --role=roles/bigquery.dataEditor \
      "${PROJECT_ID}:${BIGQUERY_DATASET}.${table}"
  done

  # Push subscriptions sign their OIDC tokens as the invoker account; the
  # service agent may do that for this one account only. (Projects created
  # since April 2021 grant it implicitly; older ones need this binding.)
  run gcloud iam service-accounts add-iam-policy-binding \
    "$(account_email "${INVOKER_ACCOUNT}")" \
    --member="serviceAccount:${agent}" \
    --role=roles/iam.serviceAccountTokenCreator \
    --project="${PROJECT_ID}"
}

main() {
  parse_arguments "$@"
  load_settings
  validate_common_settings
  require_setting BIGQUERY_LOCATION 'the BigQuery location, e.g. EU or europe-west1'

  if step_selected apis; then enable_apis; fi
  if step_selected registry; then create_registry; fi
  if step_selected accounts; then create_accounts; fi
  if step_selected pubsub; then create_pubsub; fi
  if step_selected bigquery; then create_bigquery; fi
  if step_selected iam; then grant_iam; fi
  log 'setup done'
}

main "$@"
