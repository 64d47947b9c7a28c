import os

from django.core.wsgi import get_wsgi_application

from parlor.env import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parlor.settings")
settings_or_exit()
application = get_wsgi_application()
