"""Settings of the third-party project: django-cms and django-filer.

Their migrations have long histories, squashed migrations, RunPython (one
issuing SQL itself) and dependencies across apps. Some of their Python steps
use the default database whatever the schema editor's alias, so this project
runs in its own processes with the database under test as "default", chosen
by HANDMIG_TP_ENGINE/NAME/HOST/PORT/USER/PASSWORD.
"""

import os

SECRET_KEY = "handmig-third-party-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_ID = 1
LANGUAGES = [("en", "English")]
CMS_CONFIRM_VERSION4 = True

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sites",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "treebeard",
    "sekizai",
    "menus",
    "cms",
    "easy_thumbnails",
    "filer",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.request",
                "sekizai.context_processors.sekizai",
            ]
        },
    }
]
# django-cms warns about a future treebeard release; not ours to fix.
SILENCED_SYSTEM_CHECKS = ["treebeard.E001"]

DATABASES = {
    "default": {
        "ENGINE": os.environ.get("HANDMIG_TP_ENGINE", "django.db.backends.sqlite3"),
        "NAME": os.environ.get("HANDMIG_TP_NAME", "thirdparty.sqlite3"),
        "HOST": os.environ.get("HANDMIG_TP_HOST", ""),
        "PORT": os.environ.get("HANDMIG_TP_PORT", ""),
        "USER": os.environ.get("HANDMIG_TP_USER", ""),
        "PASSWORD": os.environ.get("HANDMIG_TP_PASSWORD", ""),
    }
}
