#!/usr/bin/env bash
#
# Usage: infra/deploy.sh [--dry-run] [--only STEP[,STEP...]]
#                        [--image IMAGE] [--function-source DIR]
#
# Builds and deploys the pipeline into a project prepared by setup.sh:
#   build     compiles the TypeScript (npm run build) and stages the
#             function's upload in infra/.stage/function
#   image     builds the gateway image with Cloud Build and pushes it to
#             Artifact Registry
#   gateway   deploys the gateway to Cloud Run: HTTP/2 end to end (gRPC),
#             gRPC startup and liveness probes, no unauthenticated access,
#             its own service account, a request timeout that outlasts the
#             longest stream, concurrency and instance limits
#   function  deploys the function as a Cloud Run function (Node 24) running
#             as its own account
#   subscription
#             DELIVERY=push: creates or updates the push subscription to the
#             function (OIDC token of the invoker account, ack deadline,
#             exponential retry, dead-letter topic after N attempts);
#             DELIVERY=eventarc: puts the same retry and dead-letter policy
#             on the subscription Eventarc made, and removes the push one
#   iam       lets GATEWAY_INVOKERS call the gateway, only the invoker
#             account call the function, and the Pub/Sub service agent pull
#             from the subscription to dead-letter
#
# Settings come from the environment, then infra/settings.env (or the file
# INGEST_SETTINGS_FILE names); see infra/settings.env.example. DELIVERY=eventarc
# caps BATCH_MAX_BYTES at the Eventarc event limit.
#
# Safe to rerun: deploys create a new revision, the subscription is updated
# in place, IAM bindings are set rather than appended.
#
#   --dry-run          print every command, one per line, and run none
#   --only             run just the named steps, in the order above
#   --image            deploy this image instead of building one (skips the
#                      image step; Cloud Build passes the image it built)
#   --function-source  upload this staged directory for the function
#                      (skips staging in the build step)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly STEPS=(build image gateway function subscription iam)
# Exported by the function module; the name is fixed by the code.
readonly FUNCTION_ENTRY_POINT=ingestBatch
readonly FUNCTION_RUNTIME=nodejs24

IMAGE=''
FUNCTION_SOURCE=''

parse_arguments() {
  local only=''
  while (($# > 0)); do
    case "$1" in
      --dry-run) DRY_RUN=true ;;
      --only) only=${2:?--only needs a list of steps}; shift ;;
      --only=*) only=${1#--only=} ;;
      --image) IMAGE=${2:?--image needs an image reference}; shift ;;
      --image=*) IMAGE=${1#--image=} ;;
      --function-source) FUNCTION_SOURCE=${2:?--function-source needs a directory}; shift ;;
      --function-source=*) FUNCTION_SOURCE=${1#--function-source=} ;;
      -h | --help) usage 0 ;;
      *) echo "unknown argument: $1" >&2; usage ;;
    esac
    shift
  done
  select_steps "${only}" "${STEPS[@]}"
}

validate_deploy_settings() {
  require_integer GATEWAY_PORT 1 65535
  require_integer GATEWAY_CONCURRENCY 1 1000
  require_integer GATEWAY_MIN_INSTANCES 0 1000
  require_integer GATEWAY_MAX_INSTANCES 1 1000
  require_integer GATEWAY_MAX_STREAM_DURATION_MS 1000 3600000
  require_integer PUBLISH_TIMEOUT_MS 100 600000
  require_integer GATEWAY_TIMEOUT_MARGIN_SECONDS 0 600
  require_integer ACK_DEADLINE_SECONDS 10 "${PUBSUB_MAX_ACK_DEADLINE_SECONDS}"
  require_integer MIN_RETRY_DELAY_SECONDS 0 600
  require_integer MAX_RETRY_DELAY_SECONDS 0 600
  require_integer MAX_DELIVERY_ATTEMPTS 5 100
  require_integer FUNCTION_CONCURRENCY 1 1000
  require_integer FUNCTION_MAX_INSTANCES 1 1000
  require_env_list GATEWAY_EXTRA_ENV
  require_env_list FUNCTION_EXTRA_ENV
  if [[ -n "${GATEWAY_HEALTH_SERVICE}" && ! "${GATEWAY_HEALTH_SERVICE}" =~ ^[A-Za-z0-9_.]+$ ]]; then
    die "GATEWAY_HEALTH_SERVICE must be a gRPC service name, got '${GATEWAY_HEALTH_SERVICE}'"
  fi
  if ((GATEWAY_MIN_INSTANCES > GATEWAY_MAX_INSTANCES)); then
    die "GATEWAY_MIN_INSTANCES=${GATEWAY_MIN_INSTANCES} is above" \
      "GATEWAY_MAX_INSTANCES=${GATEWAY_MAX_INSTANCES}"
  fi
  if ((MIN_RETRY_DELAY_SECONDS > MAX_RETRY_DELAY_SECONDS)); then
    die "MIN_RETRY_DELAY_SECONDS=${MIN_RETRY_DELAY_SECONDS} is above" \
      "MAX_RETRY_DELAY_SECONDS=${MAX_RETRY_DELAY_SECONDS}"
  fi

  if [[ "${DELIVERY}" == eventarc ]]; then
    # Eventarc invokes event functions for at most 540 s.
    require_integer FUNCTION_TIMEOUT_SECONDS 1 540
    if [[ -z "${BATCH_MAX_BYTES}" ]]; then
      BATCH_MAX_BYTES=${EVENTARC_MAX_BATCH_BYTES}
    fi
    require_integer BATCH_MAX_BYTES 4096 "${EVENTARC_MAX_BATCH_BYTES}"
  else
    require_integer FUNCTION_TIMEOUT_SECONDS 1 "${PUBSUB_MAX_ACK_DEADLINE_SECONDS}"
    # Past the ack deadline Pub/Sub redelivers a batch the function is still
    # writing; the copies deduplicate, but every one costs an invocation.
    if ((FUNCTION_TIMEOUT_SECONDS > ACK_DEADLINE_SECONDS)); then
      die "FUNCTION_TIMEOUT_SECONDS=${FUNCTION_TIMEOUT_SECONDS} is above" \
        "ACK_DEADLINE_SECONDS=${ACK_DEADLINE_SECONDS}"
    fi
    if [[ -n "${BATCH_MAX_BYTES}" ]]; then
      require_integer BATCH_MAX_BYTES 4096 9437184
    fi
  fi
}

# Cloud Run must not cut a stream the gateway is still allowed to run: the
# longest call is the stream's duration, then its last publish, then a margin
# for the reply.
gateway_timeout_seconds() {
  local ms=$((GATEWAY_MAX_STREAM_DURATION_MS + PUBLISH_TIMEOUT_MS))
  local seconds=$(((ms + 999) / 1000 + GATEWAY_TIMEOUT_MARGIN_SECONDS))
  if ((seconds > CLOUD_RUN_MAX_TIMEOUT_SECONDS)); then
    die "GATEWAY_MAX_STREAM_DURATION_MS + PUBLISH_TIMEOUT_MS +" \
      "GATEWAY_TIMEOUT_MARGIN_SECONDS come to ${seconds} s, over Cloud Run's" \
      "${CLOUD_RUN_MAX_TIMEOUT_SECONDS} s request limit"
  fi
  echo "${seconds}"
}

default_image_tag() {
  if [[ -n "${GATEWAY_IMAGE_TAG}" ]]; then
    echo "${GATEWAY_IMAGE_TAG}"
  elif git -C "${REPO_ROOT}" rev-parse --short HEAD 2>/dev/null; then
    :
  else
    date -u +%Y%m%d-%H%M%S
  fi
}

build() {
  log 'building'
  run npm --prefix "${REPO_ROOT}" run build
  if [[ -z "${FUNCTION_SOURCE}" ]]; then
    FUNCTION_SOURCE="${INFRA_DIR}/.stage/function"
    run "${INFRA_DIR}/stage-function.sh" "${FUNCTION_SOURCE}"
  fi
}

build_image() {
  log "building ${IMAGE} with Cloud Build"
  run gcloud builds submit "${REPO_ROOT}" \
    --tag="${IMAGE}" \
    --region="${REGION}" \
    --project="${PROJECT_ID}"
}

deploy_gateway() {
  log "deploying gateway ${GATEWAY_SERVICE}"
  local timeout probe_target env
  timeout=$(gateway_timeout_seconds)
  probe_target="grpc.port=${GATEWAY_PORT}"
  if [[ -n "${GATEWAY_HEALTH_SERVICE}" ]]; then
    probe_target+=",grpc.service=${GATEWAY_HEALTH_SERVICE}"
  fi
  env="GOOGLE_CLOUD_PROJECT=${PROJECT_ID},PUBSUB_TOPIC=${PUBSUB_TOPIC}"
  env+=",GATEWAY_MAX_STREAM_DURATION_MS=${GATEWAY_MAX_STREAM_DURATION_MS}"
  env+=",PUBLISH_TIMEOUT_MS=${PUBLISH_TIMEOUT_MS}"
  if [[ -n "${BATCH_MAX_BYTES}" ]]; then
    env+=",BATCH_MAX_BYTES=${BATCH_MAX_BYTES}"
  fi
  if [[ -n "${GATEWAY_EXTRA_ENV}" ]]; then
    env+=",${GATEWAY_EXTRA_ENV}"
  fi

  # --use-http2 makes Cloud Run speak h2c to the container, which gRPC needs.
  # The startup probe allows a minute to start; liveness restarts an
  # instance whose health service stops answering.
  run gcloud run deploy "${GATEWAY_SERVICE}" \
    --image="${IMAGE}" \
    --region="${REGION}" \
    --project="${PROJECT_ID}" \
    --use-http2 \
    --no-allow-unauthenticated \
    --service-account="$(account_email "${GATEWAY_ACCOUNT}")" \
    --port="${GATEWAY_PORT}" \
    --timeout="${timeout}s" \
    --concurrency="${GATEWAY_CONCURRENCY}" \
    --min-instances="${GATEWAY_MIN_INSTANCES}" \
    --max-instances="${GATEWAY_MAX_INSTANCES}" \
    --cpu="${GATEWAY_CPU}" \
    --memory="${GATEWAY_MEMORY}" \
    --startup-probe="${probe_target},periodSeconds=2,timeoutSeconds=1,failureThreshold=30" \
    --liveness-probe="${probe_target},periodSeconds=30,timeoutSeconds=5,failureThreshold=3" \
    --set-env-vars="${env}"

}

deploy_function() {
  log "deploying function ${FUNCTION_NAME} (${DELIVERY})"
  if [[ -z "${FUNCTION_SOURCE}" ]]; then
    FUNCTION_SOURCE="${INFRA_DIR}/.stage/function"
  fi
  if [[ "${DRY_RUN}" != true && ! -f "${FUNCTION_SOURCE}/package.json" ]]; then
    die "${FUNCTION_SOURCE} holds no staged function: run the build step first"
  fi
  local env invoker
  invoker=$(account_email "${INVOKER_ACCOUNT}")
  env="GOOGLE_CLOUD_PROJECT=${PROJECT_ID},BIGQUERY_DATASET=${BIGQUERY_DATASET}"
  env+=",BIGQUERY_TABLE=${BIGQUERY_TABLE}"
  env+=",BIGQUERY_ERRORS_TABLE=${BIGQUERY_ERRORS_TABLE}"
  env+=",BIGQUERY_DEDUP_VIEW=${BIGQUERY_DEDUP_VIEW}"
  if [[ -n "${FUNCTION_EXTRA_ENV}" ]]; then
    env+=",${FUNCTION_EXTRA_ENV}"
  fi

  local -a trigger
  if [[ "${DELIVERY}" == push ]]; then
    trigger=(--trigger-http --no-allow-unauthenticated)
  else
    # Eventarc delivers as the invoker account and, with --retry, retries a
    # failed event with exponential backoff.
    trigger=(
      --trigger-topic="${PUBSUB_TOPIC}"
      --trigger-service-account="${invoker}"
      --retry
    )
  fi

  run gcloud functions deploy "${FUNCTION_NAME}" \
    --gen2 \
    --runtime="${FUNCTION_RUNTIME}" \
    --region="${REGION}" \
    --project="${PROJECT_ID}" \
    --source="${FUNCTION_SOURCE}" \
    --entry-point="${FUNCTION_ENTRY_POINT}" \
    "${trigger[@]}" \
    --service-account="$(account_email "${FUNCTION_ACCOUNT}")" \
    --timeout="${FUNCTION_TIMEOUT_SECONDS}s" \
    --concurrency="${FUNCTION_CONCURRENCY}" \
    --max-instances="${FUNCTION_MAX_INSTANCES}" \
    --cpu="${FUNCTION_CPU}" \
    --memory="${FUNCTION_MEMORY}" \
    --set-env-vars="${env}"

}

# The subscription's retry and dead-letter policy, the same for both modes.
delivery_policy_flags() {
  echo "--min-retry-delay=${MIN_RETRY_DELAY_SECONDS}s"
  echo "--max-retry-delay=${MAX_RETRY_DELAY_SECONDS}s"
  echo "--dead-letter-topic=${DEAD_LETTER_TOPIC}"
  echo "--max-delivery-attempts=${MAX_DELIVERY_ATTEMPTS}"
}

configure_push_delivery() {
  log "push subscription ${PUSH_SUBSCRIPTION}"
  local url=${FUNCTION_URL}
  if [[ -z "${url}" ]]; then
    url=$(capture https://FUNCTION_URL gcloud functions describe \
      "${FUNCTION_NAME}" --gen2 --region="${REGION}" \
      --project="${PROJECT_ID}" --format='value(serviceConfig.uri)')
  fi
  [[ -n "${url}" ]] || die "function ${FUNCTION_NAME} has no URL: deploy it first"

  local -a flags policy
  mapfile -t policy < <(delivery_policy_flags)
  # The functions framework names the event's source after the topic path in
  # the push URL. The token's audience is the service URL, which Cloud Run
  # checks; the invoker account is the only one allowed to call it.
  flags=(
    --push-endpoint="${url}/projects/${PROJECT_ID}/topics/${PUBSUB_TOPIC}"
    --push-auth-service-account="$(account_email "${INVOKER_ACCOUNT}")"
    --push-auth-token-audience="${url}"
    --ack-deadline="${ACK_DEADLINE_SECONDS}"
    "${policy[@]}"
    --project="${PROJECT_ID}"
  )
  if exists gcloud pubsub subscriptions describe "${PUSH_SUBSCRIPTION}" \
    --project="${PROJECT_ID}"; then
    run gcloud pubsub subscriptions update "${PUSH_SUBSCRIPTION}" "${flags[@]}"
  else
    run gcloud pubsub subscriptions create "${PUSH_SUBSCRIPTION}" \
      --topic="${PUBSUB_TOPIC}" "${flags[@]}"
  fi
}

# The subscription Eventarc created for the function's trigger.
eventarc_subscription() {
  local trigger
  trigger=$(capture EVENTARC_TRIGGER gcloud functions describe \
    "${FUNCTION_NAME}" --gen2 --region="${REGION}" --project="${PROJECT_ID}" \
    --format='value(eventTrigger.trigger)')
  [[ -n "${trigger}" ]] || die "function ${FUNCTION_NAME} has no Eventarc trigger"
  capture EVENTARC_SUBSCRIPTION gcloud eventarc triggers describe \
    "${trigger}" --location="${REGION}" --project="${PROJECT_ID}" \
    --format='value(transport.pubsub.subscription)'
}

configure_eventarc_delivery() {
  log 'Eventarc subscription policy'
  local subscription
  subscription=$(eventarc_subscription)

  local -a policy
  mapfile -t policy < <(delivery_policy_flags)
  run gcloud pubsub subscriptions update "${subscription}" "${policy[@]}" \
    --project="${PROJECT_ID}"

  # A leftover push subscription would deliver every batch a second time.
  if exists gcloud pubsub subscriptions describe "${PUSH_SUBSCRIPTION}" \
    --project="${PROJECT_ID}"; then
    run gcloud pubsub subscriptions delete "${PUSH_SUBSCRIPTION}" \
      --project="${PROJECT_ID}" --quiet
  fi
}

grant_access() {
  log 'IAM bindings, each on its one resource'
  local member
  local -a members=()
  IFS=',' read -r -a members <<<"${GATEWAY_INVOKERS}"
  for member in "${members[@]}"; do
    run gcloud run services add-iam-policy-binding "${GATEWAY_SERVICE}" \
      --member="${member}" \
      --role=roles/run.invoker \
      --region="${REGION}" \
      --project="${PROJECT_ID}"
  done

  # A gen2 function is a Cloud Run service of the same name; invoking it is
  # run.invoker on that one service, for the account push and Eventarc use.
  run gcloud run services add-iam-policy-binding "${FUNCTION_NAME}" \
    --member="serviceAccount:$(account_email "${INVOKER_ACCOUNT}")" \
    --role=roles/run.invoker \
    --region="${REGION}" \
    --project="${PROJECT_ID}"

  # Dead-lettering is done by Pub/Sub as its service agent, which must pull
  # from the source subscription (publishing to the dead-letter topic is
  # granted by setup.sh).
  local subscription=${PUSH_SUBSCRIPTION} agent
  if [[ "${DELIVERY}" == eventarc ]]; then
    subscription=$(eventarc_subscription)
  fi
  agent=$(pubsub_service_agent "$(project_number)")
  run gcloud pubsub subscriptions add-iam-policy-binding "${subscription}" \
    --member="serviceAccount:${agent}" \
    --role=roles/pubsub.subscriber \
    --project="${PROJECT_ID}"
}

main() {
  parse_arguments "$@"
  load_settings
  validate_common_settings
  validate_deploy_settings
  if [[ -z "${IMAGE}" ]]; then
    IMAGE=$(gateway_image "$(default_image_tag)")
  else
    SELECTED_STEPS=("${SELECTED_STEPS[@]/image/}")
  fi

  if step_selected build; then build; fi
  if step_selected image; then build_image; fi
  if step_selected gateway; then deploy_gateway; fi
  if step_selected function; then deploy_function; fi
  if step_selected subscription; then
    if [[ "${DELIVERY}" == push ]]; then
      configure_push_delivery
    else
      configure_eventarc_delivery
    fi
  fi
  if step_selected iam; then grant_access; fi
  log 'deploy done'
}

main "$@"
