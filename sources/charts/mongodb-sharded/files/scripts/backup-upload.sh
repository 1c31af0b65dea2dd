#!/bin/bash
# Main container of a backup run (AWS CLI image): uploads the set backup-dump.sh wrote to
# s3://<bucket>/<prefix>/<UTC timestamp>/, then deletes the sets older than RETENTION_DAYS.
# Only directories named like a timestamp under the prefix are ever deleted.
# Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the mounted Secret; its optional
# AWS_ENDPOINT_URL, S3_BUCKET and AWS_DEFAULT_REGION override the chart values.
# Environment: S3_CREDENTIALS_DIR, S3_ENDPOINT, S3_BUCKET, S3_REGION, S3_PREFIX, S3_PATH_STYLE,
#              SPOOL_DIR, RETENTION_DAYS, HOME (writable).
set -euo pipefail
from_secret() { [ -f "$S3_CREDENTIALS_DIR/$1" ] && cat "$S3_CREDENTIALS_DIR/$1" || echo "${2:-}"; }
AWS_ACCESS_KEY_ID="$(from_secret AWS_ACCESS_KEY_ID)"
AWS_SECRET_ACCESS_KEY="$(from_secret AWS_SECRET_ACCESS_KEY)"
AWS_DEFAULT_REGION="$(from_secret AWS_DEFAULT_REGION "$S3_REGION")"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
endpoint="$(from_secret AWS_ENDPOINT_URL "$S3_ENDPOINT")"
bucket="$(from_secret S3_BUCKET "$S3_BUCKET")"
if [ -z "$AWS_ACCESS_KEY_ID" ] || [ -z "$AWS_SECRET_ACCESS_KEY" ] || [ -z "$bucket" ]; then
  echo "backup: the S3 Secret needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and a bucket is required" >&2
  exit 1
fi
mkdir -p "$HOME/.aws"
if [ "$S3_PATH_STYLE" = "true" ]; then
  printf '[default]\ns3 =\n    addressing_style = path\n' > "$HOME/.aws/config"
fi
aws=(aws)
if [ -n "$endpoint" ]; then
  aws+=(--endpoint-url "$endpoint")
fi
prefix="${S3_PREFIX%/}"
stamp="$(cat "$SPOOL_DIR/latest")"

echo "backup: uploading $stamp to s3://$bucket/$prefix/$stamp/"
"${aws[@]}" s3 cp --recursive --only-show-errors "$SPOOL_DIR/$stamp/" "s3://$bucket/$prefix/$stamp/"

cutoff="$(date -u -d "-$RETENTION_DAYS days" +%Y%m%dT%H%M%SZ)"
echo "backup: deleting sets older than $RETENTION_DAYS days (before $cutoff)"
"${aws[@]}" s3 ls "s3://$bucket/$prefix/" | while read -r kind dir _; do
  set_stamp="${dir%/}"
  if [ "$kind" = "PRE" ] && [[ "$set_stamp" =~ ^[0-9]{8}T[0-9]{6}Z$ ]] && [[ "$set_stamp" < "$cutoff" ]]; then
    echo "backup: deleting s3://$bucket/$prefix/$set_stamp/"
    "${aws[@]}" s3 rm --recursive --only-show-errors "s3://$bucket/$prefix/$set_stamp/"
  fi
done
echo "backup: done"
