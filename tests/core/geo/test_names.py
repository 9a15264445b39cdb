"""Place names fold to keys that meet across Ukrainian, Russian and Latin spellings."""

from __future__ import annotations

import pytest

from svidok.core.geo.names import fold, loose, name_keys, transliterate_ru, transliterate_uk


class TestFold:
    def test_case_stress_apostrophes_and_hyphens(self):
        assert fold("Кам'янець-Подільський") == "камянець подільський"
        assert fold("Караджи́") == "караджи"
        assert fold("  KYIV ") == "kyiv"

    def test_cyrillic_letters_with_marks_stay_letters(self):
        assert fold("Київ") == "київ"
        assert fold("Миколаїв") == "миколаїв"
        assert fold("Шевченкове") != fold("Шевченково")

    def test_latin_marks_are_dropped(self):
        assert fold("Qarağy") == "qaragy"

    def test_nothing_but_punctuation_is_empty(self):
        assert fold("—'-") == ""
        assert name_keys("...") == set()


class TestTransliteration:
    @pytest.mark.parametrize(("name", "latin"), [
        ("Харків", "kharkiv"), ("Київ", "kyiv"), ("Запоріжжя", "zaporizhzhia"),
        ("Згурівка", "zghurivka"), ("Яготин", "yahotyn"), ("Ізюм", "izium"),
        ("Біла Церква", "bila tserkva"), ("Щастя", "shchastia"),
    ])
    def test_ukrainian_official_system(self, name, latin):
        assert transliterate_uk(name) == latin

    @pytest.mark.parametrize(("name", "latin"), [
        ("Харьков", "kharkov"), ("Николаев", "nikolaev"), ("Чугуев", "chuguev"),
    ])
    def test_russian_system(self, name, latin):
        assert transliterate_ru(name) == latin

    def test_loose_key_ignores_y_i_j_and_doubled_letters(self):
        assert loose("mykolaiv") == loose("mikolajiv".replace("ji", "i"))
        assert loose("zaporizzhia") == loose("zaporizhia".replace("zh", "zzh"))


class TestKeys:
    def test_every_spelling_of_kharkiv_shares_a_key(self):
        assert name_keys("Харків") & name_keys("Kharkiv")
        assert name_keys("Харьков") & name_keys("Kharkov")

    def test_different_places_do_not_share_keys(self):
        assert not name_keys("Харків") & name_keys("Херсон")
