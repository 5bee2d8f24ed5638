/**
 * The catalog's root-zone pH range, feeding interval and repotting interval per species (by slug),
 * kept beside db/seed/species-data.ts and merged into it by the seed. Typical values for plants
 * grown in pots, written by us from common horticultural guidance: feeding in the growing season
 * (annual vegetables and herbs are "repotted" into fresh mix each season).
 */
export interface SpeciesCareSeed {
  /** Root-zone pH. */
  ph: [number, number];
  /** Days between feeds in the growing season. */
  fertilizeIntervalDays: number;
  /** Months between repottings. */
  repotIntervalMonths: number;
}

const care = (ph: [number, number], fertilizeIntervalDays: number, repotIntervalMonths: number): SpeciesCareSeed => ({ ph, fertilizeIntervalDays, repotIntervalMonths });

export const speciesCare: Record<string, SpeciesCareSeed> = {
  // Houseplants
  "monstera-deliciosa": care([5.5, 7.0], 30, 24),
  "epipremnum-aureum": care([6.0, 6.5], 30, 24),
  "philodendron-hederaceum": care([5.5, 6.5], 30, 24),
  "chlorophytum-comosum": care([6.0, 7.0], 30, 12),
  "dracaena-trifasciata": care([5.5, 7.5], 60, 36),
  "zamioculcas-zamiifolia": care([6.0, 7.0], 60, 36),
  "spathiphyllum-wallisii": care([5.8, 6.5], 42, 18),
  "ficus-lyrata": care([6.0, 7.0], 30, 24),
  "ficus-elastica": care([5.5, 7.0], 30, 24),
  "goeppertia-orbifolia": care([5.5, 6.5], 30, 18),
  "maranta-leuconeura": care([5.5, 6.5], 30, 18),
  "aspidistra-elatior": care([5.5, 6.5], 60, 36),
  "chamaedorea-elegans": care([5.5, 6.5], 30, 24),
  "dypsis-lutescens": care([6.0, 7.0], 30, 24),
  "nephrolepis-exaltata": care([5.0, 6.0], 30, 12),
  "peperomia-obtusifolia": care([6.0, 6.5], 42, 24),
  "pilea-peperomioides": care([6.0, 7.0], 30, 12),
  "hoya-carnosa": care([6.0, 6.5], 30, 36),
  "dracaena-fragrans": care([6.0, 6.5], 30, 24),
  "aglaonema-commutatum": care([5.5, 6.5], 42, 24),
  "dieffenbachia-seguine": care([6.0, 6.5], 30, 12),
  "schefflera-arboricola": care([6.0, 6.5], 30, 24),
  "anthurium-andraeanum": care([5.5, 6.5], 30, 24),
  "syngonium-podophyllum": care([5.5, 6.5], 30, 12),
  "hedera-helix": care([6.0, 7.5], 30, 12),
  "fittonia-albivenis": care([5.5, 6.5], 30, 12),
  "strelitzia-reginae": care([6.0, 7.5], 14, 24),
  "saintpaulia-ionantha": care([5.8, 6.5], 14, 12),
  "begonia-rex": care([5.5, 6.5], 21, 12),
  "adiantum-raddianum": care([6.0, 7.5], 30, 12),
  "guzmania-lingulata": care([5.0, 6.0], 60, 36),
  "codiaeum-variegatum": care([5.5, 6.5], 21, 24),
  "phalaenopsis-amabilis": care([5.5, 6.5], 14, 24),
  "dendrobium-nobile": care([5.5, 6.5], 14, 24),
  "cattleya-labiata": care([5.5, 6.5], 14, 24),
  "ludisia-discolor": care([5.5, 6.5], 30, 24),
  // Succulents and cacti
  "aloe-vera": care([6.0, 8.0], 60, 36),
  "crassula-ovata": care([6.0, 7.5], 60, 36),
  "echeveria-elegans": care([6.0, 7.0], 60, 24),
  "haworthiopsis-attenuata": care([6.0, 7.5], 60, 36),
  "curio-rowleyanus": care([6.0, 7.5], 42, 24),
  "schlumbergera-truncata": care([5.5, 6.5], 30, 36),
  "mammillaria-elongata": care([6.0, 7.5], 60, 36),
  "sedum-morganianum": care([6.0, 7.5], 60, 36),
  "kalanchoe-blossfeldiana": care([6.0, 7.0], 30, 24),
  "euphorbia-milii": care([6.0, 7.0], 42, 24),
  // Herbs
  "ocimum-basilicum": care([6.0, 7.5], 21, 12),
  "petroselinum-crispum": care([6.0, 7.0], 28, 12),
  "mentha-spicata": care([6.0, 7.0], 28, 12),
  "mentha-requienii": care([6.0, 7.5], 28, 12),
  "salvia-rosmarinus": care([6.0, 7.5], 60, 24),
  "thymus-vulgaris": care([6.0, 8.0], 60, 24),
  "coriandrum-sativum": care([6.2, 6.8], 28, 12),
  "salvia-officinalis": care([6.0, 7.0], 60, 24),
  "origanum-vulgare": care([6.0, 8.0], 60, 24),
  "allium-schoenoprasum": care([6.0, 7.0], 28, 12),
  "anethum-graveolens": care([5.5, 6.5], 28, 12),
  "laurus-nobilis": care([6.0, 7.0], 30, 24),
  "cymbopogon-citratus": care([6.0, 7.5], 21, 12),
  // Vegetables
  "solanum-lycopersicum": care([6.2, 6.8], 14, 12),
  "lactuca-sativa": care([6.0, 7.0], 21, 12),
  "capsicum-annuum": care([6.0, 6.8], 14, 12),
  "cucumis-sativus": care([6.0, 7.0], 14, 12),
  "spinacia-oleracea": care([6.5, 7.5], 21, 12),
  "eruca-vesicaria": care([6.0, 7.0], 28, 12),
  "brassica-rapa": care([6.0, 7.5], 21, 12),
  "beta-vulgaris": care([6.0, 7.5], 21, 12),
  "brassica-oleracea": care([6.0, 7.5], 21, 12),
  "valerianella-locusta": care([6.0, 7.5], 28, 12),
  "solanum-melongena": care([5.8, 6.8], 14, 12),
  "phaseolus-vulgaris": care([6.0, 7.0], 28, 12),
  "raphanus-sativus": care([6.0, 7.0], 28, 12),
  "cucurbita-pepo": care([6.0, 7.5], 14, 12),
  "allium-fistulosum": care([6.0, 7.0], 28, 12),
  // Fruits
  "fragaria-x-ananassa": care([5.5, 6.5], 14, 12),
  "fragaria-vesca": care([5.5, 6.8], 21, 12),
  "citrus-limon": care([5.5, 6.5], 21, 36),
  "vaccinium-corymbosum": care([4.5, 5.5], 30, 24),
  "musa-acuminata": care([5.5, 7.0], 14, 12),
  // Flowers
  "lilium-longiflorum": care([6.0, 7.0], 21, 12),
  "rosa-chinensis": care([6.0, 6.5], 14, 24),
  "pelargonium-zonale": care([5.8, 6.5], 14, 12),
  "tropaeolum-majus": care([6.0, 7.5], 60, 12),
  "viola-tricolor": care([5.5, 6.5], 14, 12),
  "cyclamen-persicum": care([5.5, 6.5], 28, 24),
  "chrysanthemum-morifolium": care([6.0, 6.5], 14, 12),
  "gerbera-jamesonii": care([5.5, 6.5], 14, 12),
  "euphorbia-pulcherrima": care([5.8, 6.5], 21, 12),
};
