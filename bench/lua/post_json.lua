-- wrk -s post_json.lua: POST the JSON object in env BENCH_POST_BODY on every request.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_POST_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
