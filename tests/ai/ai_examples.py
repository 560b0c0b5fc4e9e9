"""Generated multilingual support tickets for the local-AI tests (three topics)."""

from __future__ import annotations

import random

TOPICS = {
    "billing": ["invoice", "refund", "charged twice", "facture", "remboursement", "€ payé deux fois", "請求書", "退款",
                "Rechnung", "Gebühr", "payment failed", "prélèvement"],
    "delivery": ["parcel", "shipping", "late delivery", "colis", "livraison en retard", "配送", "荷物が届かない",
                 "Paket", "Lieferung", "tracking number", "courier", "expédition"],
    "account": ["password", "login", "reset my account", "mot de passe", "connexion", "账户", "パスワード",
                "Konto gesperrt", "two-factor", "username", "e-mail change", "compte bloqué"],
}
FILLERS = ["hello", "please help", "bonjour", "merci", "thanks", "urgent", "asap", "danke", "请", "お願いします",
           "naïve question", "café", "today", "again"]


def generate(n_per_label: int = 60, seed: int = 7) -> tuple[list[str], list[str]]:
    rnd = random.Random(seed)
    texts, labels = [], []
    for label, words in TOPICS.items():
        for _ in range(n_per_label):
            parts = rnd.sample(words, 2) + rnd.sample(FILLERS, rnd.randint(0, 3))
            rnd.shuffle(parts)
            texts.append(" ".join(parts))
            labels.append(label)
    return texts, labels
