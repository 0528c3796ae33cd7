"""The original owt design, for comparison: a Flask app that decodes the request's
code and kwargs and exec()s the code on every request.

GET `/<any path>?code_b64=...&kwargs_b64=...` or POST a JSON object with the same fields.
Served by Flask's dev server (`python3 owt_flask.py PORT`) or by uWSGI (`callable = app`).
Loopback only: it runs whatever code it is sent.
"""
import ast
import base64
import json
import sys

from flask import Flask, Response, request

app = Flask(__name__)


def _b64(text):
    text = "".join(text.split())
    text += "=" * (-len(text) % 4)
    return base64.b64decode(text.replace("-", "+").replace("_", "/")).decode("utf-8")


def _kwargs(text):
    text = text.rstrip("\n")
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = ast.literal_eval(text)
    return value if isinstance(value, dict) else {"__last__": value}


@app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@app.route("/<path:path>", methods=["GET", "POST"])
def owt(path):
    fields = request.args.to_dict()
    if request.is_json:
        fields.update(request.get_json())
    code = _b64(fields["code_b64"])
    kwargs = _kwargs(_b64(fields.get("kwargs_b64", "")))
    namespace = {}
    exec(code, namespace)
    result = namespace[fields.get("fn_name", "run")](**kwargs)
    if hasattr(result, "__next__"):
        return Response(result, headers={"X-Accel-Buffering": "no"})
    return result


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
