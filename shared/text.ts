/** Lower case without diacritics: "Jalapeño" and "jalapeno" compare equal. */
export function foldForSearch(text: string): string {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase().trim();
}
