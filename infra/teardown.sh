#!/usr/bin/env bash
#
# Usage: infra/teardown.sh [--dry-run] [--yes] [--keep-data]
#
# Removes what setup.sh and deploy.sh created, in the reverse order: the push
# subscription, the function (with its Eventarc trigger), the gateway, the
# dead-letter subscription and both topics, the BigQuery dataset with its
# tables and view, the Artifact Registry repository with its images, and the
# three service accounts. IAM bindings go with the resources they are on.
# The enabled APIs stay enabled.
#
# Deleting the dataset, the dead-letter subscription and the images deletes
# data, so the script asks first (on the terminal) unless --yes is given,
# and refuses without --yes when there is no terminal to ask on.
#
# Safe to rerun: whatever is already gone is skipped.
#
#   --dry-run    print every command, one per line, and run none (checks
#                print too, and are taken to find everything present)
#   --yes        delete data without asking
#   --keep-data  delete everything except the dataset, the dead-letter
#                subscription and the images
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DRY_RUN_ASSUMES_PRESENT=true
ASSUME_YES=false
KEEP_DATA=false

parse_arguments() {
  while (($# > 0)); do
    case "$1" in
      --dry-run) DRY_RUN=true ;;
      --yes) ASSUME_YES=true ;;
      --keep-data) KEEP_DATA=true ;;
      -h | --help) usage 0 ;;
      *) echo "unknown argument: $1" >&2; usage ;;
    esac
    shift
  done
}

# Asks once, before anything is deleted, so a "no" leaves everything intact.
confirm_data_deletion() {
  if [[ "${KEEP_DATA}" == true || "${ASSUME_YES}" == true || "${DRY_RUN}" == true ]]; then
    return 0
  fi
  if [[ ! -t 0 ]]; then
    die 'teardown deletes the dataset, dead-lettered batches and images;' \
      'rerun with --yes to confirm, or --keep-data to keep them'
  fi
  local answer prompt
  prompt="Delete dataset ${PROJECT_ID}:${BIGQUERY_DATASET} (all rows),"
  prompt+=' dead-lettered batches and gateway images? [y/N] '
  read -r -p "${prompt}" answer
  [[ "${answer}" == y || "${answer}" == Y ]] || die 'nothing deleted'
}

delete_if_present() {
  local -a describe=() delete=()
  while [[ "$1" != -- ]]; do
    describe+=("$1")
    shift
  done
  shift
  delete=("$@")
  if exists "${describe[@]}"; then
    run "${delete[@]}"
  fi
}

main() {
  parse_arguments "$@"
  load_settings
  validate_common_settings
  confirm_data_deletion
  local project="--project=${PROJECT_ID}" region="--region=${REGION}"

  log 'delivery and compute'
  delete_if_present gcloud pubsub subscriptions describe "${PUSH_SUBSCRIPTION}" "${project}" \
    -- gcloud pubsub subscriptions delete "${PUSH_SUBSCRIPTION}" "${project}" --quiet
  delete_if_present gcloud functions describe "${FUNCTION_NAME}" --gen2 "${region}" "${project}" \
    -- gcloud functions delete "${FUNCTION_NAME}" --gen2 "${region}" "${project}" --quiet
  delete_if_present gcloud run services describe "${GATEWAY_SERVICE}" "${region}" "${project}" \
    -- gcloud run services delete "${GATEWAY_SERVICE}" "${region}" "${project}" --quiet

  log 'Pub/Sub'
  if [[ "${KEEP_DATA}" != true ]]; then
    delete_if_present \
      gcloud pubsub subscriptions describe "${DEAD_LETTER_SUBSCRIPTION}" "${project}" \
      -- gcloud pubsub subscriptions delete "${DEAD_LETTER_SUBSCRIPTION}" \
      "${project}" --quiet
  fi
  delete_if_present gcloud pubsub topics describe "${PUBSUB_TOPIC}" "${project}" \
    -- gcloud pubsub topics delete "${PUBSUB_TOPIC}" "${project}" --quiet
  # A topic with a subscription left on it (--keep-data) can still go: the
  # subscription stays, detached, and keeps its messages until it expires.
  delete_if_present gcloud pubsub topics describe "${DEAD_LETTER_TOPIC}" "${project}" \
    -- gcloud pubsub topics delete "${DEAD_LETTER_TOPIC}" "${project}" --quiet

  if [[ "${KEEP_DATA}" != true ]]; then
    log 'data'
    delete_if_present "${BQ[@]}" show --format=none --dataset "${PROJECT_ID}:${BIGQUERY_DATASET}" \
      -- "${BQ[@]}" rm --recursive --force --dataset "${PROJECT_ID}:${BIGQUERY_DATASET}"
    delete_if_present gcloud artifacts repositories describe "${ARTIFACT_REPOSITORY}" \
      --location="${REGION}" "${project}" \
      -- gcloud artifacts repositories delete "${ARTIFACT_REPOSITORY}" \
      --location="${REGION}" "${project}" --quiet
  fi

  log 'service accounts'
  local account email
  for account in "${GATEWAY_ACCOUNT}" "${FUNCTION_ACCOUNT}" "${INVOKER_ACCOUNT}"; do
    email=$(account_email "${account}")
    delete_if_present gcloud iam service-accounts describe "${email}" "${project}" \
      -- gcloud iam service-accounts delete "${email}" "${project}" --quiet
  done
  log 'teardown done'
}

main "$@"
