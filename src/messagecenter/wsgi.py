import os

from django.core.wsgi import get_wsgi_application

from messagecenter.request_bodies import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
application = ChunkedBodies(get_wsgi_application())
