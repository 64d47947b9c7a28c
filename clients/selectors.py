"""Reads about clients."""

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import Lower

from clients.models import Client
from clients.search import normalise_query

# pg_trgm's default word-similarity threshold (0.6) misses one dropped letter
# in a surname ("шевчнко" scores 0.55 against "шевченко"); 0.5 keeps such typos.
WORD_SIMILARITY_THRESHOLD = 0.5
# Below three characters there is no trigram to look up, and no typo to forgive.
FUZZY_MIN_LENGTH = 3


def client_recent(*, limit: int = 50) -> list[Client]:
    """The live clients updated most recently, newest first (served by clients_client_recent)."""
    return list(Client.objects.active().order_by("-updated_at", "-pk")[:limit])


def client_search(query: str, limit: int = 50) -> list[Client]:
    """Live clients whose name (either script), phone or email contains the query, best match
    first; when none does, those whose words nearly match it (typos). An empty query gives the
    most recently updated.

    Both steps are served by the trigram index clients_client_search_trgm. The
    fuzzy step runs only when nothing contains the text: `%>` rechecks every
    row sharing half the query's trigrams, and for a query like "kovalenko"
    that is every "-enko", thousands of rows at 20,000 clients, where the
    substring step answers from a handful. Phones and emails get no fuzzy
    step: one wrong digit is another person's number.
    """
    text = normalise_query(query)
    if not text:
        return client_recent(limit=limit)
    found = list(client_containing_queryset(text, limit=limit))
    if found or len(text) < FUZZY_MIN_LENGTH or text.isdigit() or "@" in text:
        return found
    with transaction.atomic(), connection.cursor() as cursor:
        # For this transaction only; pg_trgm reads it when evaluating %>.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(WORD_SIMILARITY_THRESHOLD)]
        )
        return list(client_similar_queryset(text, limit=limit))


def client_containing_queryset(text: str, limit: int = 50) -> QuerySet[Client]:
    """Live clients whose search_text contains the normalised text; a word starting with it first.

    search_text is lower case, so LIKE on the lower-cased text is an ILIKE, and
    a plain LIKE is what the trigram index serves without a cast.
    """
    word_start = ExpressionWrapper(
        Q(search_text__startswith=text) | Q(search_text__contains=f" {text}"), output_field=BooleanField()
    )
    return (
        Client.objects.active()
        .filter(search_text__contains=text)
        .annotate(at_word_start=word_start)
        .order_by("-at_word_start", "full_name", "pk")[:limit]
    )


def client_similar_queryset(text: str, limit: int = 50) -> QuerySet[Client]:
    """Live clients with a word similar to the normalised text (`search_text %> text`), most similar
    first; client_search sets the threshold it uses."""
    return (
        Client.objects.active()
        .filter(search_text__trigram_word_similar=text)
        .annotate(similarity=TrigramWordSimilarity(text, "search_text"))
        .order_by("-similarity", "full_name", "pk")[:limit]
    )


def client_duplicates(*, phone, email: str, exclude_pk: int | None = None) -> dict[str, Client]:
    """The live clients that already have this phone or this email, by field name."""
    found: dict[str, Client] = {}
    if phone:
        match = Client.objects.active().filter(phone=phone).exclude(pk=exclude_pk).first()
        if match:
            found["phone"] = match
    if email:
        # Lower(email) = lower(value): the expression of clients_client_email_unique, so its index serves it.
        match = (
            Client.objects.active()
            .alias(email_lower=Lower("email"))
            .filter(email_lower=email.strip().lower())
            .exclude(pk=exclude_pk)
            .first()
        )
        if match:
            found["email"] = match
    return found


def client_get(pk: int) -> Client:
    """One client (merged or not) with the record it was merged into; DoesNotExist when there is none."""
    return Client.objects.select_related("merged_into", "created_by").get(pk=pk)


def client_merged_from(client: Client) -> list[Client]:
    """Records that were merged into this one."""
    return list(client.merged_from.order_by("full_name", "pk"))
