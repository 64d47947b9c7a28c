from django.db import migrations

# The catalogue from the parlor's own materials (shared/domain.md). Each code
# has its rule in screening/rules.py (RULES); a test checks both ways.
# Questions are in the plain words a receptionist can ask on the phone.
ABSOLUTE, RELATIVE, LOCAL, PRODUCT = "absolute", "relative", "local", "product"

CATALOGUE = [
    # code, kind, day-of, (name uk, name en), (question uk, question en), (guidance uk, guidance en)
    (
        "fracture",
        ABSOLUTE,
        False,
        ("Пошкодження кісток (переломи)", "Bone damage (fractures)"),
        ("Чи є у вас зараз перелом або інше пошкодження кісток?", "Do you have a fracture or other bone injury now?"),
        ("Масаж протипоказаний, доки кістка не загоїться.", "No massage until the bone has healed."),
    ),
    (
        "osteomyelitis",
        ABSOLUTE,
        False,
        ("Хронічний остеомієліт", "Chronic osteomyelitis"),
        ("Чи є у вас остеомієліт (запалення кістки)?", "Do you have osteomyelitis (a bone infection)?"),
        ("Масаж протипоказаний.", "No massage."),
    ),
    (
        "periostitis",
        ABSOLUTE,
        False,
        ("Періостит", "Periostitis"),
        ("Чи є у вас запалення окістя (періостит)?", "Do you have periostitis (inflamed bone lining)?"),
        ("Масаж протипоказаний.", "No massage."),
    ),
    (
        "acute-infection",
        ABSOLUTE,
        False,
        ("Гостре інфекційне захворювання", "Acute infectious disease"),
        (
            "Чи хворієте ви зараз на застуду, грип чи іншу інфекцію?",
            "Are you ill with a cold, flu or another infection now?",
        ),
        ("Масаж лише після одужання.", "No massage until recovered."),
    ),
    (
        "fever",
        ABSOLUTE,
        True,
        ("Висока температура тіла", "High body temperature (fever)"),
        ("Чи є у вас сьогодні підвищена температура?", "Do you have a raised temperature today?"),
        ("Сьогодні масаж неможливий; перенесіть візит.", "No massage today; move the visit."),
    ),
    (
        "clotting-disorder",
        ABSOLUTE,
        False,
        ("Порушення згортання крові", "Blood clotting disorder"),
        ("Чи є у вас проблеми зі згортанням крові?", "Do you have a blood clotting problem?"),
        ("Масаж протипоказаний.", "No massage."),
    ),
    (
        "thrombosis",
        ABSOLUTE,
        False,
        ("Тромбоз", "Thrombosis"),
        ("Чи є у вас тромбоз або тромби?", "Do you have thrombosis or blood clots?"),
        ("Масаж протипоказаний.", "No massage."),
    ),
    (
        "internal-bleeding",
        ABSOLUTE,
        False,
        ("Внутрішня кровотеча", "Internal bleeding"),
        ("Чи є у вас внутрішня кровотеча або схильність до неї?", "Do you have internal bleeding?"),
        ("Масаж протипоказаний.", "No massage."),
    ),
    (
        "open-wounds",
        ABSOLUTE,
        False,
        ("Відкриті рани", "Open wounds"),
        ("Чи є на спині чи тілі відкриті рани?", "Do you have open wounds on your back or body?"),
        ("Масаж лише після загоєння.", "No massage until healed."),
    ),
    (
        "ruptured-muscle",
        ABSOLUTE,
        False,
        ("Розрив м'язів або сухожиль", "Ruptured muscles or tendons"),
        ("Чи був у вас нещодавно розрив м'яза або сухожилля?", "Have you recently torn a muscle or tendon?"),
        ("Масаж протипоказаний до загоєння.", "No massage until healed."),
    ),
    (
        "oncology",
        ABSOLUTE,
        False,
        ("Онкологічне захворювання", "Oncological disease"),
        ("Чи є у вас онкологічне захворювання?", "Do you have cancer or a tumour?"),
        ("Масаж протипоказаний.", "No massage."),
    ),
    (
        "serious-cardiovascular",
        ABSOLUTE,
        False,
        ("Важке серцево-судинне захворювання", "Serious cardiovascular disease"),
        (
            "Чи є у вас важка хвороба серця чи судин (інфаркт, серцева недостатність)?",
            "Do you have a serious heart or blood-vessel disease (heart attack, heart failure)?",
        ),
        ("Масаж протипоказаний.", "No massage."),
    ),
    (
        "intoxication",
        ABSOLUTE,
        True,
        ("Алкогольне чи наркотичне сп'яніння", "Alcohol or drug intoxication"),
        (
            "Чи вживали ви сьогодні алкоголь або інші речовини?",
            "Have you had alcohol or other substances today?",
        ),
        ("Сьогодні масаж неможливий.", "No massage today."),
    ),
    (
        "high-blood-pressure",
        RELATIVE,
        False,
        ("Високий артеріальний тиск", "High blood pressure"),
        ("Чи буває у вас високий тиск?", "Do you have high blood pressure?"),
        ("Працювати від шиї донизу, а не знизу вгору.", "Work from the neck down instead of bottom-up."),
    ),
    (
        "low-blood-pressure",
        RELATIVE,
        False,
        ("Низький артеріальний тиск", "Low blood pressure"),
        ("Чи буває у вас низький тиск?", "Do you have low blood pressure?"),
        ("Починати легко; клієнт підводиться повільно.", "Start light; the client gets up slowly."),
    ),
    (
        "kidney-disease",
        RELATIVE,
        False,
        ("Захворювання нирок", "Kidney disease"),
        ("Чи є у вас хвороби нирок?", "Do you have a kidney disease?"),
        ("Без поплескування та рубання над нирками.", "No patting or chopping over the kidneys."),
    ),
    (
        "heart-disease",
        RELATIVE,
        False,
        ("Захворювання серця", "Heart disease"),
        ("Чи є у вас хвороби серця?", "Do you have a heart condition?"),
        ("Без поплескування та рубання над ділянкою серця.", "No patting or chopping over the heart area."),
    ),
    (
        "liver-disease",
        RELATIVE,
        False,
        ("Захворювання печінки", "Liver disease"),
        ("Чи є у вас хвороби печінки?", "Do you have a liver disease?"),
        ("Без поплескування та рубання над печінкою.", "No patting or chopping over the liver."),
    ),
    (
        "skin-disease",
        RELATIVE,
        False,
        ("Захворювання шкіри", "Skin disease"),
        (
            "Чи є у вас хвороби шкіри на спині (висип, екзема, грибок)?",
            "Do you have a skin condition on your back (rash, eczema, fungus)?",
        ),
        ("Лише з дозволу лікаря.", "Only with a doctor's permission."),
    ),
    (
        "allergic-reactions",
        RELATIVE,
        False,
        ("Алергічні реакції", "Allergic reactions"),
        ("Чи бувають у вас алергічні реакції?", "Do you get allergic reactions?"),
        ("Лише засоби, які клієнт уже переносив.", "Only products the client has tolerated before."),
    ),
    (
        "pregnancy",
        RELATIVE,
        False,
        ("Вагітність", "Pregnancy"),
        ("Чи ви вагітні? Якщо так, на якому тижні?", "Are you pregnant? If so, in which week?"),
        (
            "У першому триместрі масаж не проводиться; пізніше — ніколи крижі та куприк.",
            "No massage in the first trimester; later, never the sacrum or coccyx.",
        ),
    ),
    (
        "menstruation",
        RELATIVE,
        True,
        ("Менструація", "Menstruation"),
        ("У вас сьогодні менструація?", "Are you menstruating today?"),
        ("Запитати про самопочуття; м'яко на попереку.", "Ask how she feels; gentle on the lower back."),
    ),
    (
        "acute-back-pain",
        RELATIVE,
        True,
        ("Загострення захворювання спини (гострий біль)", "Acute exacerbation of a back disease (acute pain)"),
        ("Чи є у вас сьогодні гострий біль у спині?", "Do you have acute back pain today?"),
        (
            "Лікувальний масаж лише після нападу і з дозволу лікаря.",
            "Therapeutic massage only after the attack has passed, with a doctor's permission.",
        ),
    ),
    (
        "spine",
        LOCAL,
        False,
        ("Хребет", "The spine"),
        ("", ""),
        (
            "Працювати м'язи вздовж хребта, ніколи не тиснути на хребці.",
            "Work the muscles along it; never press the vertebrae.",
        ),
    ),
    (
        "kidney-area",
        LOCAL,
        False,
        ("Ділянка нирок", "The kidney area"),
        ("", ""),
        ("Без ударних прийомів.", "No percussion."),
    ),
    ("heart-area", LOCAL, False, ("Ділянка серця", "The heart area"), ("", ""), ("", "")),
    (
        "lymph-nodes",
        LOCAL,
        False,
        ("Лімфатичні вузли", "Lymph nodes"),
        ("", ""),
        ("Рухи в напрямку вузлів, ніколи на них.", "Stroke toward them, never on them."),
    ),
    (
        "sacrum-coccyx",
        LOCAL,
        False,
        ("Крижі та куприк при вагітності", "Sacrum and coccyx in pregnancy"),
        ("", ""),
        ("Не працювати під час вагітності.", "Never worked during pregnancy."),
    ),
    (
        "product-allergy",
        PRODUCT,
        False,
        ("Алергія на олію, крем або аромат", "Allergy to an oil, cream or aroma"),
        (
            "Чи є у вас алергія на масажну олію, крем чи аромат (сандал, жасмин, апельсин, троянда, пачулі, пальмароза)?",
            "Are you allergic to a massage oil, cream or aroma (sandalwood, jasmine, orange, rose, patchouli, palmarosa)?",
        ),
        ("Записати алерген; не використовувати його.", "Record the allergen; never use it."),
    ),
]


def seed(apps, schema_editor):
    Contraindication = apps.get_model("screening", "Contraindication")
    for position, (code, kind, day_of, names, questions, guidance) in enumerate(CATALOGUE):
        # get_or_create, not update_or_create: running this again (after a test
        # flush) must not undo what the manager edited.
        Contraindication.objects.get_or_create(
            code=code,
            defaults={
                "kind": kind,
                "is_day_of": day_of,
                "name_uk": names[0],
                "name_en": names[1],
                "question_uk": questions[0],
                "question_en": questions[1],
                "guidance_uk": guidance[0],
                "guidance_en": guidance[1],
                "ordering": (position + 1) * 10,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("screening", "Contraindication").objects.filter(code__in=[row[0] for row in CATALOGUE]).delete()


class Migration(migrations.Migration):
    dependencies = [("screening", "0002_append_only")]

    operations = [migrations.RunPython(seed, unseed)]
