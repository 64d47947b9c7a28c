from django.contrib.postgres.operations import BtreeGistExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """btree_gist for the exclusion constraints that stop double booking;
    pg_trgm for typo-tolerant client search."""

    dependencies = []

    operations = [BtreeGistExtension(), TrigramExtension()]
