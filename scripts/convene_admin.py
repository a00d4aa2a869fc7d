"""What the load scripts ask of a server's administrator, through `convene call`."""
import json
import os
import subprocess
import sys


def admin_call(convene, port, admin_token_file, method, body):
    """A method of the Administration service, called with the administrator's token; its JSON answer."""
    command = [convene, "--target", f"127.0.0.1:{port}", "--token-file", admin_token_file,
               "call", f"convene.admin.v1.Administration/{method}", "--data", json.dumps(body)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def operator_token(convene, port, admin_token_file, folder, label="load"):
    """A party with the operator role, registered and given a credential by the administrator;
    the path of a file holding its token. The administrator's own credential calls no plugin
    method, and an operator's calls both a plugin and the built-in echo."""
    party = admin_call(convene, port, admin_token_file, "RegisterParty",
                       {"name": f"Operator for {label}", "kind": "SECRETARIAT", "roles": ["OPERATOR"]})
    issued = admin_call(convene, port, admin_token_file, "IssueCredential", {"partyId": party["id"], "label": label})
    path = os.path.join(folder, "operator.token")
    with open(path, "w") as f:
        f.write(issued["token"])
    return path
