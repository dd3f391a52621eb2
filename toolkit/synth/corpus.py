"""The multilingual material synthetic sources are drawn from.

Kept apart from the generator so that the code reads as logic: these are the words,
names and sentence frames of English, Russian, Ukrainian and Korean news. Quotes and
evidence are cut from `WORDS`, so grounding finds them in the generated texts.
"""

from __future__ import annotations

LANGUAGES = ("en", "en", "en", "ru", "ru", "uk", "ko")
OUTLETS = {
    "en": ("Daily Ledger", "Harbor Times", "Northern Wire", "The Atlas Review"),
    "ru": ("Вечерний курьер", "Северная газета", "Балтийский вестник"),
    "uk": ("Київський огляд", "Дніпровські новини", "Голос Полісся"),
    "ko": ("한빛일보", "동해신문", "서울타임스"),
}
TEXTS = {
    "en": (
        "the government said it would expand cooperation with its partners in the region "
        "while officials warned that new deliveries of equipment could change the balance "
        "of power along the border ministers discussed sanctions energy supplies and "
        "security guarantees after talks that lasted late into the night analysts noted "
        "that the agreement had been prepared for months and that further steps depend on "
        "parliament diplomats described the meeting as frank and constructive but stressed "
        "that differences remain over trade routes shipments and the future of joint "
        "exercises near the coast"
    ),
    "ru": (
        "правительство заявило что расширит сотрудничество с партнерами в регионе тогда как "
        "официальные лица предупредили что новые поставки оборудования могут изменить "
        "баланс сил вдоль границы министры обсудили санкции поставки энергии и гарантии "
        "безопасности после переговоров которые продолжались до поздней ночи аналитики "
        "отметили что соглашение готовилось несколько месяцев и что дальнейшие шаги зависят "
        "от парламента дипломаты назвали встречу откровенной и конструктивной но подчеркнули "
        "что разногласия сохраняются по торговым маршрутам и будущим совместным учениям"
    ),
    "uk": (
        "уряд заявив що розширить співпрацю з партнерами в регіоні тоді як посадовці "
        "попередили що нові постачання обладнання можуть змінити баланс сил уздовж кордону "
        "міністри обговорили санкції постачання енергії та гарантії безпеки після переговорів "
        "які тривали до пізньої ночі аналітики зазначили що угоду готували кілька місяців а "
        "подальші кроки залежать від парламенту дипломати назвали зустріч відвертою"
    ),
    "ko": (
        "정부는 지역 협력국과의 협력을 확대하겠다고 밝혔다 관리들은 새로운 장비 공급이 국경 "
        "지역의 힘의 균형을 바꿀 수 있다고 경고했다 장관들은 제재와 에너지 공급 안보 보장을 "
        "논의했다 분석가들은 협정이 수개월 동안 준비되었으며 향후 조치는 의회에 달려 있다고 "
        "지적했다 외교관들은 회담이 솔직하고 건설적이었다고 평가했지만 무역 경로와 합동 훈련의 "
        "미래를 둘러싼 이견이 남아 있다고 강조했다"
    ),
}
WORDS = {lang: tuple(text.split()) for lang, text in TEXTS.items()}
# (Latin, Cyrillic, Hangul) spellings: registry names and aliases, and how sources write them.
GIVEN = (
    ("Ivan", "Иван", "이반"),
    ("Olena", "Олена", "올레나"),
    ("Min-jun", "Мин Джун", "민준"),
    ("Seo-yeon", "Со Ён", "서연"),
    ("Dmitri", "Дмитрий", "드미트리"),
    ("Anna", "Анна", "안나"),
    ("Taras", "Тарас", "타라스"),
    ("Ji-ho", "Чжи Хо", "지호"),
    ("Maria", "Мария", "마리아"),
    ("Oleksandr", "Олександр", "올렉산드르"),
    ("Hye-jin", "Хе Джин", "혜진"),
    ("Pavel", "Павел", "파벨"),
)
FAMILY = (
    ("Kovalenko", "Коваленко", "코발렌코"),
    ("Petrov", "Петров", "페트로프"),
    ("Kim", "Ким", "김"),
    ("Park", "Пак", "박"),
    ("Shevchenko", "Шевченко", "셰브첸코"),
    ("Lee", "Ли", "이"),
    ("Smirnova", "Смирнова", "스미르노바"),
    ("Choi", "Чхве", "최"),
    ("Bondar", "Бондар", "본다르"),
    ("Volkov", "Волков", "볼코프"),
    ("Jung", "Чон", "정"),
)
ORG_KINDS = (
    ("Ministry of Defence", "Министерство обороны", "국방부"),
    ("Foreign Ministry", "Министерство иностранных дел", "외교부"),
    ("State Arms Exporter", "Государственный экспортер вооружений", "국영 무기 수출사"),
    ("Security Council", "Совет безопасности", "안전보장회의"),
    ("Trade Agency", "Торговое агентство", "무역청"),
)
GROUPINGS = (
    ("Coalition", "Коалиция", "연합"),
    ("Contact Group", "Контактная группа", "연락 그룹"),
    ("Partnership", "Партнерство", "동반자 관계"),
)
SCRIPT = {"en": 0, "ru": 1, "uk": 1, "ko": 2}
QUOTE_FRAMES = {
    "en": ('"{q}," {n} said.', "{n} said: \u201c{q}\u201d."),
    "ru": ("\u00ab{q}\u00bb, \u2014 заявил {n}.", "{n} сказал: \u00ab{q}\u00bb."),
    "uk": ("\u00ab{q}\u00bb, \u2014 заявив {n}.", "{n} сказав: \u00ab{q}\u00bb."),
    "ko": ('{n}은 "{q}"라고 말했다.', '{n}는 "{q}"라고 밝혔다.'),
}
PARAPHRASE_FRAMES = {
    "en": "According to {n}, {q}.",
    "ru": "По словам {n}, {q}.",
    "uk": "За словами {n}, {q}.",
    "ko": "{n}에 따르면 {q}.",
}
AGREEMENT_WORDS = {
    "en": "Agreement No. {s} on {t}",
    "ru": "Соглашение № {s} о {t}",
    "uk": "Угода № {s} про {t}",
    "ko": "{t}에 관한 제{s}호 협정",
}
