# Sourced by .ci/run. For maptask-storage and maptask-cluster:
#  * a venv with the real validators: `kubernetes-validate` (the official schemas, strict mode)
#    and `botocore` (AWS's own parameter validation against the `batch` service model);
#  * a real S3-compatible server on localhost: `moto` in server mode, with authentication on,
#    an IAM user whose secret key moto generates, and a bucket.
# It exports what the tests read:
#   MAPTASK_S3_ENDPOINT, MAPTASK_S3_BUCKET, MAPTASK_S3_ACCESS_KEY_ID, MAPTASK_S3_SECRET_ACCESS_KEY,
#   MAPTASK_KUBERNETES_VALIDATE (the CLI), MAPTASK_BOTOCORE_PYTHON (a python with botocore).
# Run it by hand with `source .ci/setup.d/30-cloud.sh` to get the same environment locally.

_cloud_dir="${MAPTASK_CI_DIR:-$PWD/target/ci}/cloud"
_cloud_venv="$_cloud_dir/venv"
mkdir -p "$_cloud_dir"

# Pinned: moto's S3 and IAM with flask for its server mode (not `moto[server]`, which pulls every
# AWS service's dependencies and takes minutes), the validators at the versions the crate targets.
_cloud_pins=("moto[s3]==5.2.5" "flask" "flask-cors" "kubernetes-validate==1.37.0" "botocore")
if ! "$_cloud_venv/bin/python" -c 'import moto, flask, flask_cors, kubernetes_validate, botocore' 2>/dev/null; then
    echo "   installing ${_cloud_pins[*]} into $_cloud_venv"
    python3 -m venv "$_cloud_venv" && "$_cloud_venv/bin/pip" install --quiet \
        --disable-pip-version-check "${_cloud_pins[@]}" \
        || echo "30-cloud.sh: WARNING: the install failed; the storage and cluster tests will fail"
fi

# A failure below must not stop .ci/run: the tests that need the server then fail, loudly,
# under MAPTASK_CI=1, and every other test still runs.
_cloud_port=$("$_cloud_venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Authentication is enforced after the first 3 requests, which create the IAM user below.
INITIAL_NO_AUTH_ACTION_COUNT=3 nohup "$_cloud_venv/bin/moto_server" -H 127.0.0.1 -p "$_cloud_port" \
    > "$_cloud_dir/moto.log" 2>&1 &
echo $! > "$_cloud_dir/moto.pid"
disown || true

_cloud_creds=$("$_cloud_venv/bin/python" - "$_cloud_port" <<'PY'
import json, sys, time, urllib.request
import boto3

endpoint = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(150):
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
        break
    except Exception:
        time.sleep(0.2)
else:
    sys.exit(f"moto_server did not start at {endpoint}")
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="maptask-ci")
iam.put_user_policy(UserName="maptask-ci", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="maptask-ci")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
s3.create_bucket(Bucket="maptask-ci")
print(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
PY
) || _cloud_creds=""

if [ -n "$_cloud_creds" ]; then
    read -r MAPTASK_S3_ENDPOINT MAPTASK_S3_ACCESS_KEY_ID MAPTASK_S3_SECRET_ACCESS_KEY <<< "$_cloud_creds"
    export MAPTASK_S3_ENDPOINT MAPTASK_S3_ACCESS_KEY_ID MAPTASK_S3_SECRET_ACCESS_KEY
    export MAPTASK_S3_BUCKET=maptask-ci
else
    echo "30-cloud.sh: WARNING: the S3 server did not come up (see $_cloud_dir/moto.log); the S3 tests will fail"
fi
export MAPTASK_KUBERNETES_VALIDATE="$_cloud_venv/bin/kubernetes-validate"
export MAPTASK_BOTOCORE_PYTHON="$_cloud_venv/bin/python"
echo "   S3 server (moto, auth on) at $MAPTASK_S3_ENDPOINT, bucket $MAPTASK_S3_BUCKET; validators in $_cloud_venv"
unset _cloud_dir _cloud_venv _cloud_pins _cloud_port _cloud_creds
