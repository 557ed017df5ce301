"""Write botocore's endpoints data trimmed to the services we make clients for (decision 63).

    python -m infra.botocore_endpoints          # `make template`: write it
    python -m infra.botocore_endpoints --check  # exit 1 if stale (`make validate`, a unit test)

Building a client's endpoint resolver parses botocore's endpoints.json (1.25 MB, every service
of every partition): 12-14 ms of each cold start that makes an AWS client. The resolver reads
only the entries of the services it is asked for, so the trimmed copy keeps every partition
whole but for its `services`, which keep only ours (by endpoint prefix, as the resolver keys
them). messenger.platform.aws puts the folder ahead of botocore's own data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from botocore.loaders import Loader

from messenger.platform import aws

TARGET = Path(aws.__file__).with_name("botocore_data") / "endpoints.json"


def trimmed() -> dict[str, Any]:
    loader = Loader()  # botocore's data only, not the folder this writes
    prefixes = {
        loader.load_service_model(service, "service-2")["metadata"]["endpointPrefix"]
        for service in aws.SERVICES
    }
    data = loader.load_data("endpoints")
    return {
        **data,
        "partitions": [
            {
                **partition,
                "services": {
                    name: entry for name, entry in partition["services"].items() if name in prefixes
                },
            }
            for partition in data["partitions"]
        ],
    }


def render() -> str:
    return json.dumps(trimmed(), indent=1, sort_keys=True) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    wanted = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != wanted:
            sys.exit(f"{TARGET} is stale: run `make template`")
        return
    TARGET.write_text(wanted, encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
