"""Settings of the large third-party project: django-cms, django-filer and
Wagtail, 221 migration nodes (squashed ones, Python steps, dependencies
across many apps). The performance benchmark measures its whole history; a
test proves the plan against migrate. The database comes from the same
HANDMIG_TP_* variables as the smaller project's.
"""

from tests.thirdparty_settings import *  # noqa: F403
from tests.thirdparty_settings import INSTALLED_APPS as _THIRD_PARTY

INSTALLED_APPS = [
    *_THIRD_PARTY,
    "django.contrib.staticfiles",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.search_promotions",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
WAGTAIL_SITE_NAME = "handmig"
WAGTAILADMIN_BASE_URL = "http://localhost"
