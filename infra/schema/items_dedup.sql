SELECT * EXCEPT (copy_rank)
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY stream_id, item_index
      ORDER BY inserted_at, message_id
    ) AS copy_rank
  FROM `${PROJECT_ID}.${BIGQUERY_DATASET}.${BIGQUERY_TABLE}`
)
WHERE copy_rank = 1
