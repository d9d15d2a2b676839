SELECT * EXCEPT (copy_rank)
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY stream_id, item_index
      ORDER BY inserted_at, message_id
    ) AS copy_rank
  FROM `${PROJECT}.${DATASET}.${TABLE}`
)
WHERE copy_rank = 1
