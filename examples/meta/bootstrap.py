# examples/meta/bootstrap.py

def run(**kwargs):
    from owt import request
    import os
    import subprocess
    import owt

    payload_code_b64 = kwargs["payload_code_b64"]
    payload_kwargs_b64 = kwargs["payload_kwargs_b64"]
    print(request.base_url)
    # examples/meta/bootstrap.sh, next to the owt package the server runs
    # (adaptors/owt in a source tree, $(pkgdatadir)/adaptors/owt installed).
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(owt.__file__))))
    bootstrap_sh = os.path.join(root, "examples", "meta", "bootstrap.sh")
    return subprocess.run(
        ["bash", "-c", 'source "$0"; $(owtInOwt "$1" "$2" "$3")',
         bootstrap_sh, request.base_url, payload_code_b64, payload_kwargs_b64],
        stdout=subprocess.PIPE, check=True,
    ).stdout.decode("utf-8")
