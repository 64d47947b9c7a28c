"""factory_boy factories shared by the whole suite."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clients.models import Client
from parlor import roles
from parlor.models import MassageType, Masseur, Room, TimeOff, WorkingHours


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Тарас"
    last_name = factory.Sequence(lambda n: f"Петренко{n}")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


class MassageTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MassageType

    code = factory.Sequence(lambda n: f"type-{n}")
    name_uk = factory.Sequence(lambda n: f"Масаж {n}")
    name_en = factory.Sequence(lambda n: f"Massage {n}")
    duration_minutes = 40
    buffer_minutes = 15
    price_uah = 600


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    name = factory.Sequence(lambda n: f"Кабінет {n}")


class MasseurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Masseur
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=roles.MASSEUR)
    display_name = factory.Sequence(lambda n: f"Масажист {n}")

    @factory.post_generation
    def qualifications(self, create, extracted, **kwargs):
        if create and extracted:
            self.qualifications.set(extracted)


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    masseur = factory.SubFactory(MasseurFactory)
    weekday = 0
    starts = datetime.time(9, 0)
    ends = datetime.time(17, 0)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    masseur = factory.SubFactory(MasseurFactory)
    starts_at = factory.LazyFunction(lambda: datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC))
    ends_at = factory.LazyFunction(lambda: datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.UTC))


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    full_name = factory.Sequence(lambda n: f"Оксана Клієнтка {n}")
    phone = factory.Sequence(lambda n: f"+38067{n:07d}")
    email = factory.Sequence(lambda n: f"client{n}@example.com")
    birth_date = datetime.date(1985, 5, 17)
    sex = Client.Sex.FEMALE
    language = Client.Language.UKRAINIAN
    data_consent_at = factory.LazyFunction(lambda: datetime.datetime(2026, 1, 10, 10, 0, tzinfo=datetime.UTC))
    reminder_consent = True
