"""Storage-API-compatible routes, mounted at ``/storage/v1``.

Order matters: the fixed prefixes (move, copy, list, sign, upload/sign, info, authenticated,
public) come before the catch-all ``/object/{bucket}/{key}``, as in storage-api's router.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from echogen_devstack import storage_buckets as buckets
from echogen_devstack import storage_manage as manage
from echogen_devstack import storage_objects as objects

KEY = "{bucket}/{key:path}"


def routes() -> list[BaseRoute]:
    return [
        Route("/bucket", buckets.list_buckets, methods=["GET"]),
        Route("/bucket", buckets.create_bucket, methods=["POST"]),
        Route("/bucket/{bucket}/empty", buckets.empty_bucket, methods=["POST"]),
        Route("/bucket/{bucket}", buckets.get_bucket, methods=["GET"]),
        Route("/bucket/{bucket}", buckets.update_bucket, methods=["PUT"]),
        Route("/bucket/{bucket}", buckets.delete_bucket, methods=["DELETE"]),
        Route("/object/move", manage.move_object, methods=["POST"]),
        Route("/object/copy", manage.copy_object, methods=["POST"]),
        Route("/object/list/{bucket}", manage.list_objects, methods=["POST"]),
        Route("/object/list-v2/{bucket}", manage.list_objects_v2, methods=["POST"]),
        Route("/object/sign/{bucket}", manage.sign_objects, methods=["POST"]),
        Route(f"/object/sign/{KEY}", manage.sign_object, methods=["POST"]),
        Route(f"/object/sign/{KEY}", objects.fetch_signed_object, methods=["GET", "HEAD"]),
        Route(f"/object/upload/sign/{KEY}", objects.create_signed_upload_url, methods=["POST"]),
        Route(f"/object/upload/sign/{KEY}", objects.upload_to_signed_url, methods=["PUT"]),
        Route(f"/object/info/authenticated/{KEY}", manage.object_info, methods=["GET"]),
        Route(f"/object/info/{KEY}", manage.object_info, methods=["GET"]),
        Route(f"/object/authenticated/{KEY}", objects.download_object, methods=["GET", "HEAD"]),
        Route(f"/object/public/{KEY}", objects.download_public_object, methods=["GET", "HEAD"]),
        Route("/object/{bucket}", manage.remove_objects, methods=["DELETE"]),
        Route(f"/object/{KEY}", objects.upload_object, methods=["POST", "PUT"]),
        Route(f"/object/{KEY}", objects.download_object, methods=["GET", "HEAD"]),
        Route(f"/object/{KEY}", manage.delete_object, methods=["DELETE"]),
    ]
