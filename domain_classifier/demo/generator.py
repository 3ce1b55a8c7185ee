"""Deterministic synthetic marketplace listing titles: the project's demo data.

The generator writes Mercado Libre-style product titles in Brazilian Portuguese and
Spanish, labelled with a product "domain" (``MLB-SHAMPOOS``, ``MLB-CELLPHONE_COVERS``...).
Domains are grouped into families (hair care, hair appliances, beauty, phones, kitchen,
fashion) whose members share brands, product lines and attributes, so siblings are
genuinely confusable. Titles are assembled from a head noun, brand, product line,
attributes, a size and seller noise, in varied orders and casings, then roughened:

* ~12% of titles carry no head noun (``Elseve Hidra Hialurônico 400ml``) and ~5% only a
  family-wide one (``Kit Capilar Elseve ...``), which makes them ambiguous between
  siblings that share the line; such titles mostly carry family-wide attributes too;
* ~6% also name a sibling's noun (``Kit Shampoo + Condicionador Pantene``);
* ~30% lose their accents, ~10% get a typo, ~5% an extra space, and every title is cut
  at a word boundary to the marketplace's 60-character limit, so long ones lose their tail;
* a ``label_noise`` share of rows is relabelled to another domain, 80% of the time a
  sibling, since that is what real miscategorisations look like.

Domain sizes are Zipf-like: the domain at rank r weighs ``1 / r**zipf_exponent`` over a
fixed ordering of the domains (shuffled with a constant, not with ``seed``). No
flattening is applied: with 32 domains and exponent 1.0 the smallest domain still gets
~0.77% of the rows (~150 of 20,000), while the largest gets ~25%.

A TF-IDF char n-gram + linear SVM baseline scores about 0.90-0.92 macro-F1 on 12k/4k rows.
Output is a Parquet file written chunk by chunk, so memory stays flat at any size.
Chunk ``i`` draws all its randomness from ``SeedSequence([seed, i])``
(``[seed, i, 1]`` for :func:`generate_batch`), so the same arguments, ``chunk_rows``
included, give a byte-identical file.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

LANGUAGES = ("pt", "es")
SHIFTS = ("none", "new_brands", "domain_mix", "unseen_domain", "language_switch")

# ---------------------------------------------------------------------------
# Vocabulary. Lines are "Brand | Product line | codes": the codes say which
# domains of the family sell that line, which is what makes siblings confusable.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _DomainSpec:
    id: str
    code: str
    pt: str  # head nouns, "|"-separated; repeats act as weights
    es: str
    pt_attrs: str = ""
    es_attrs: str = ""
    sizes: str = ""
    makers: str = ""  # accessory makers named besides the compatible device
    compat: bool = False  # the line is a device it fits ("Capinha para iPhone 13")


@dataclass(frozen=True)
class _FamilySpec:
    name: str
    domains: tuple[_DomainSpec, ...]
    lines: str
    pt_attrs: str
    es_attrs: str
    # Family-wide words sellers use instead of the product's noun ("Kit Capilar").
    pt_generic: str = ""
    es_generic: str = ""


_HAIR_CARE = _FamilySpec(
    "hair_care",
    (
        _DomainSpec(
            "MLB-SHAMPOOS", "S",
            pt="Shampoo|Shampoo|Shampoo|Xampu|Shampoo Profissional",
            es="Champú|Champú|Shampoo|Champu|Shampoo Profesional",
            pt_attrs="Antirresíduo|Anticaspa|Limpeza Profunda|Uso Diário|Antiqueda|Detox",
            es_attrs="Anticaspa|Limpieza Profunda|Uso Diario|Anticaída|Detox",
            sizes="200ml|250ml|300ml|350ml|400ml|400ml|670ml|750ml|1L",
        ),
        _DomainSpec(
            "MLB-HAIR_CONDITIONERS", "C",
            pt="Condicionador|Condicionador|Condicionador|Creme de Enxágue|Condicionador Profissional",
            es="Acondicionador|Acondicionador|Enjuague|Crema de Enjuague|Acondicionador Profesional",
            pt_attrs="Desembaraçante|Maciez|Brilho Intenso|Antiqueda|Fácil Enxágue",
            es_attrs="Desenredante|Suavidad|Brillo Intenso|Anticaída|Fácil Enjuague",
            sizes="170ml|200ml|200ml|250ml|300ml|400ml|1L",
        ),
        _DomainSpec(
            "MLB-HAIR_TREATMENTS", "T",
            pt="Máscara Capilar|Máscara de Hidratação|Creme de Tratamento|Óleo Capilar|Leave-in|Ampola|Máscara",
            es="Máscara Capilar|Mascarilla|Tratamiento Capilar|Crema de Peinar|Aceite Capilar|Ampolla|Máscara",
            pt_attrs="Hidratação Intensiva|Umectação|Selagem|Cauterização|Sem Enxágue|Finalizador|Cronograma Capilar|Reconstrução",
            es_attrs="Tratamiento Intensivo|Sin Enjuague|Sellado|Cauterización|Finalizador|Reconstrucción",
            sizes="250g|300g|500g|1kg|100ml|200ml|15ml|300g",
        ),
        _DomainSpec(
            "MLB-HAIR_DYES", "D",
            pt="Tintura|Coloração|Tinta de Cabelo|Kit Coloração|Tonalizante|Tinta",
            es="Tinte|Tintura|Coloración|Tinte para Cabello|Kit de Coloración",
            pt_attrs="Louro Claro 8.0|Castanho Escuro 3.0|Preto 1.0|Ruivo 7.44|Castanho Médio 4.0|Louro Escuro 6.0|Marsala 6.66|Sem Amônia|Cobre 100% dos Brancos|Loiro Platinado 12.11",
            es_attrs="Rubio Claro 8.0|Castaño Oscuro 3.0|Negro 1.0|Pelirrojo 7.44|Castaño Medio 4.0|Sin Amoníaco|Cubre Canas|Rubio Platino 12.11",
            sizes="50g|60g|45g|60ml|1 Un",
        ),
    ),
    lines="""
        Elseve | Hidra Hialurônico | SCT
        Elseve | Óleo Extraordinário | SCT
        Elseve | Reparação Total 5+ | SCT
        Elseve | Glycolic Gloss | SCT
        Elseve | Cachos Longos dos Sonhos | SCT
        L'Oréal Paris | Elseve Hidra Hialurônico | SCT
        L'Oréal Paris | Imédia Excellence | D
        L'Oréal Paris | Casting Creme Gloss | D
        L'Oréal Professionnel | Absolut Repair | SCT
        L'Oréal Professionnel | Metal Detox | SCT
        Pantene | Liso Extremo | SCT
        Pantene | Restauração | SCT
        Pantene | Hidro-Cauterização | SCT
        Pantene | Cachos Hidra-Vitaminados | SCT
        Pantene | Bambu Nutre & Cresce | SCT
        Seda | Ceramidas | SC
        Seda | Boom Liso | SCT
        Seda | Cocriações Pretos Luminosos | SC
        Seda | Recarga Natural | SC
        Tresemmé | Liso Absoluto | SCT
        Tresemmé | Hidratação Profunda | SCT
        Tresemmé | Reconstrução e Força | SCT
        Tresemmé | Detox Capilar | SC
        Dove | Reconstrução Completa | SCT
        Dove | Óleo Nutrição | SCT
        Dove | Hidratação Intensa | SCT
        Dove | Bond Intense Repair | SCT
        Wella | Invigo Nutri-Enrich | SCT
        Wella | Fusion | SCT
        Wella | Oil Reflections | SCT
        Wella | Koleston | D
        Wella | Color Touch | D
        Kérastase | Elixir Ultime | SCT
        Kérastase | Nutritive | SCT
        Kérastase | Genesis | SCT
        Kérastase | Blond Absolu | SCT
        Lola Cosmetics | Morte Súbita | SCT
        Lola Cosmetics | Meu Cacho Minha Vida | SCT
        Lola Cosmetics | Rapunzel | SCT
        Salon Line | #todecacho | SCT
        Salon Line | SOS Cachos | SCT
        Salon Line | Meu Liso | SCT
        Salon Line | Maria Natureza | SCT
        Salon Line | Color Express | D
        Skala | Expert Mais Cachos | SCT
        Skala | Bomba de Vitaminas | SCT
        Novex | Meus Cachos | SCT
        Novex | Óleo de Coco | SCT
        Garnier | Fructis Hair Food | SCT
        Garnier | Fructis Cachos Poderosos | SCT
        Garnier | Nutrisse | D
        Haskell | Cavalo Forte | SCT
        Haskell | Murumuru | SCT
        Inoar | Absolut Argan Oil | SCT
        Head & Shoulders | Limpeza Renovadora | S
        Head & Shoulders | Menthol Refrescante | SC
        Clear | Men Anticaspa | S
        Schwarzkopf | Igora Royal | D
        Beautycolor | Tons Intensos | D
        Keraton | Hard Colors | D
    """,
    pt_attrs="Sem Sal|Vegano|Para Cabelos Cacheados|Pós Química|Low Poo|No Poo|Cabelos Secos|Cabelos Danificados|Antifrizz|Hidratação|Nutrição|Cabelos Lisos|Cabelos Crespos|Cabelos Oleosos|Com Queratina|Óleo de Argan|Ácido Hialurônico|Todos os Tipos de Cabelo|Liberado|Sem Parabenos",
    es_attrs="Sin Sal|Vegano|Para Rulos|Cabello Rizado|Post Química|Cabello Seco|Cabello Dañado|Antifrizz|Hidratación|Nutrición|Cabello Liso|Cabello Graso|Con Keratina|Aceite de Argán|Ácido Hialurónico|Todo Tipo de Cabello|Sin Parabenos",
    pt_generic="Kit Capilar|Kit Tratamento|Kit Cronograma Capilar|Linha Completa|Kit Salão",
    es_generic="Kit Capilar|Kit de Tratamiento|Línea Completa|Kit Profesional",
)

_HAIR_APPLIANCES = _FamilySpec(
    "hair_appliances",
    (
        _DomainSpec(
            "MLB-HAIR_DRYERS", "Y",
            pt="Secador de Cabelo|Secador de Cabelo|Secador|Secador Profissional|Secador de Cabelos",
            es="Secador de Pelo|Secador de Pelo|Secador de Cabello|Secador|Secador Profesional",
            pt_attrs="Ar Frio|2 Velocidades|3 Temperaturas|Difusor|Motor AC|Dobrável",
            es_attrs="Aire Frío|2 Velocidades|3 Temperaturas|Difusor|Motor AC|Plegable",
            sizes="1200W|1900W|2000W|2000W|2100W|2200W|2400W",
        ),
        _DomainSpec(
            "MLB-HAIR_STRAIGHTENERS", "P",
            pt="Prancha|Chapinha|Prancha Alisadora|Chapa de Cabelo|Prancha de Cabelo|Chapinha Profissional",
            es="Plancha de Pelo|Planchita|Alisadora|Plancha Alisadora|Plancha de Cabello|Plancha",
            pt_attrs="Placas Flutuantes|Placas de Titânio|Placas de Cerâmica|Aquece Rápido|Display Digital|Alisa e Modela",
            es_attrs="Placas Flotantes|Placas de Titanio|Placas de Cerámica|Calienta Rápido|Display Digital",
            sizes="230°C|220°C|250°C|450°F|480°F|25mm",
        ),
        _DomainSpec(
            "MLB-HAIR_CURLERS", "M",
            pt="Modelador de Cachos|Babyliss|Cacheador|Modelador|Ondulador|Babyliss Modelador",
            es="Rizador|Buclera|Rizadora de Pelo|Ondulador|Rizador de Pelo",
            pt_attrs="Cônico|Cachos Perfeitos|Ondas|Rotativo Automático|Triondas",
            es_attrs="Cónico|Rizos Perfectos|Ondas|Rotativo Automático",
            sizes="19mm|25mm|28mm|32mm|38mm",
        ),
        _DomainSpec(
            "MLB-HOT_AIR_BRUSHES", "E",
            pt="Escova Secadora|Escova Rotativa|Escova Alisadora|Escova Modeladora|Escova Secadora e Modeladora",
            es="Cepillo Secador|Cepillo Alisador|Cepillo Eléctrico|Cepillo Rotativo|Cepillo Secador y Voluminizador",
            pt_attrs="3 em 1|Cerdas Mistas|Giratória|Volume",
            es_attrs="3 en 1|Cerdas Mixtas|Giratorio|Volumen",
            sizes="900W|1000W|1200W|1300W",
        ),
    ),
    lines="""
        Taiff | Black Ion | Y
        Taiff | Fox Ion 3 | Y
        Taiff | Style | YP
        Taiff | Titanium | PM
        Taiff | Unique | P
        Taiff | Curves | M
        Taiff | Easy Brush | E
        Taiff | Rose | YPM
        Philco | Spin Brush | E
        Philco | Gold Titanium | PE
        Philco | PH3700 Pink | Y
        Philco | Beauty Rose | YPME
        Philco | Soft Brush | E
        Mondial | Max Travel | Y
        Mondial | Infinity Tourmaline | YPM
        Mondial | Chronos | PE
        Mondial | Pink Style | YPME
        Mondial | Gold Ion | YE
        Gama Italy | IQ Perfetto | Y
        Gama Italy | Titanium Lumina | PM
        Gama Italy | Elegance | YP
        Gama Italy | Tempo | PM
        Babyliss | Pro Nano Titanium | YPM
        Babyliss | Rapido | Y
        Babyliss | Big Hair | E
        Babyliss | Miracurl | M
        Britânia | BSC 2000 | Y
        Britânia | Soft Pink | YPM
        Britânia | BEC | E
        Britânia | Ceramic | PM
        Remington | Pro-Air Turbo | Y
        Remington | Shine Therapy | PM
        Conair | InfinitiPro | YPME
        Lizz Professional | Lizz Ion | P
        Dyson | Supersonic | Y
        Dyson | Airwrap | ME
    """,
    pt_attrs="Bivolt|127v|220v|110v|Íons|Cerâmica|Titânio|Turmalina|Profissional|Rosa|Preto|Alta Temperatura|Desligamento Automático|Tecnologia Iônica|Cabo Giratório",
    es_attrs="Bivolt|110v|220v|Iones|Cerámica|Titanio|Turmalina|Profesional|Rosa|Negro|Alta Temperatura|Apagado Automático|Tecnología Iónica|Cable Giratorio",
    pt_generic="Kit Beleza|Aparelho Profissional|Kit Cabeleireiro|Eletroportátil",
    es_generic="Kit Belleza|Aparato Profesional|Kit Peluquería|Electrodoméstico",
)

_BEAUTY = _FamilySpec(
    "beauty",
    (
        _DomainSpec(
            "MLB-FACIAL_SKIN_CARE", "F",
            pt="Sérum Facial|Hidratante Facial|Creme Facial|Sabonete Facial|Gel de Limpeza Facial|Sérum|Creme Antirrugas|Tônico Facial",
            es="Sérum Facial|Crema Facial|Hidratante Facial|Gel Limpiador Facial|Serum|Crema Antiarrugas|Tónico Facial|Crema de Noche",
            pt_attrs="Antissinais|Antirrugas|Clareador|Niacinamida|Retinol|Anti Acne|Antioleosidade|Noturno|Efeito Lifting|Vitamina C|Ácido Hialurônico|Pele Oleosa|Pele Seca|Sem Perfume|Toque Seco",
            es_attrs="Antiedad|Antiarrugas|Aclarante|Niacinamida|Retinol|Anti Acné|Control de Grasa|Noche|Vitamina C|Ácido Hialurónico|Piel Grasa|Piel Seca|Sin Perfume|Toque Seco",
            sizes="30ml|40g|50ml|50g|30g|15ml|150ml",
        ),
        _DomainSpec(
            "MLB-BODY_LOTIONS", "L",
            pt="Hidratante Corporal|Loção Hidratante|Creme Corporal|Loção Corporal|Hidratante|Creme Hidratante|Óleo Corporal",
            es="Crema Corporal|Loción Corporal|Hidratante Corporal|Crema Hidratante|Loción Hidratante|Aceite Corporal",
            pt_attrs="Pele Extrasseca|Manteiga de Karité|48h|Absorção Rápida|Pós Sol|FPS 15|Perfumado|Pele Seca|Sem Perfume|Vitamina E",
            es_attrs="Piel Extra Seca|Manteca de Karité|48h|Absorción Rápida|After Sun|FPS 15|Perfumada|Piel Seca|Sin Perfume|Vitamina E",
            sizes="200ml|400ml|400ml|250ml|750ml|1L|300ml",
        ),
        _DomainSpec(
            "MLB-SUNSCREENS", "U",
            pt="Protetor Solar|Protetor Solar|Protetor Solar Facial|Filtro Solar|Bloqueador Solar|Protetor Solar Corporal|Protetor Facial",
            es="Protector Solar|Protector Solar|Bloqueador Solar|Protector Solar Facial|Filtro Solar|Pantalla Solar",
            pt_attrs="FPS 30|FPS 50|FPS 60|FPS 70|FPS 99|Com Cor|Resistente à Água|Antioleosidade|Infantil|Cor Morena|Toque Seco|Pele Oleosa|Oil Free",
            es_attrs="FPS 30|FPS 50|FPS 60|FPS 70|SPF 50|Con Color|Resistente al Agua|Infantil|Toque Seco|Piel Grasa|Oil Free",
            sizes="40g|50g|60g|120ml|200ml|50ml|400ml",
        ),
        _DomainSpec(
            "MLB-MAKEUP_FOUNDATIONS", "B",
            pt="Base Líquida|Base|Base Matte|Base Facial|Base de Maquiagem|Base Alta Cobertura",
            es="Base de Maquillaje|Base Líquida|Base|Base Mate|Base Alta Cobertura",
            pt_attrs="Alta Cobertura|Cobertura Média|Efeito Natural|Cor 120|Cor 220|Cor 310|Bege Médio|Porcelana|FPS 15|FPS 20|24h|Matte|Toque Seco|Pele Oleosa|Oil Free",
            es_attrs="Alta Cobertura|Cobertura Media|Efecto Natural|Tono 120|Tono 220|Tono 310|Beige Medio|Porcelana|FPS 15|24h|Mate|Toque Seco|Piel Grasa|Oil Free",
            sizes="30ml|30ml|26ml|35ml|40ml",
        ),
        _DomainSpec(
            "MLB-LIPSTICKS", "K",
            pt="Batom|Batom|Batom Líquido|Batom Matte|Batom Cremoso|Gloss Labial|Lip Tint",
            es="Labial|Lápiz Labial|Labial Líquido|Labial Mate|Brillo Labial|Lip Tint",
            pt_attrs="Vermelho|Nude|Rosa|Hidratante|Metalizado|Vinho|Cor 01|Matte",
            es_attrs="Rojo|Nude|Rosa|Humectante|Metalizado|Vino|Tono 01|Mate",
            sizes="3,6g|4g|3ml|4ml|3,5g",
        ),
        _DomainSpec(
            "MLB-MASCARAS", "R",
            pt="Máscara de Cílios|Rímel|Máscara Para Cílios|Máscara|Rímel à Prova D'água",
            es="Máscara de Pestañas|Rímel|Pestañina|Máscara|Rímel a Prueba de Agua",
            pt_attrs="À Prova D'água|Volume|Alongamento|Curvatura|Preto Intenso|Efeito Cílios Postiços",
            es_attrs="A Prueba de Agua|Volumen|Alargamiento|Curvatura|Negro Intenso|Efecto Pestañas Postizas",
            sizes="9ml|10ml|9,2ml|7ml|8ml",
        ),
        _DomainSpec(
            "MLB-NAIL_POLISHES", "N",
            pt="Esmalte|Esmalte|Esmalte Cremoso|Esmalte em Gel|Esmalte Perolado|Kit Esmaltes|Base Fortalecedora",
            es="Esmalte de Uñas|Esmalte|Esmalte en Gel|Pintura de Uñas|Laca de Uñas|Base Fortalecedora",
            pt_attrs="Vermelho|Nude|Cintilante|Secagem Rápida|Cremoso|Efeito Gel|Top Coat",
            es_attrs="Rojo|Nude|Brillante|Secado Rápido|Cremoso|Efecto Gel|Top Coat",
            sizes="8ml|9ml|7,5ml|8ml|10ml",
        ),
        _DomainSpec(
            "MLB-PERFUMES", "P",
            pt="Perfume|Perfume|Colônia|Deo Colônia|Eau de Parfum|Body Splash|Perfume Importado|Eau de Toilette",
            es="Perfume|Perfume|Colonia|Fragancia|Eau de Parfum|Eau de Toilette|Body Splash|Perfume Importado",
            pt_attrs="Amadeirado|Floral|Importado|Fixação Prolongada|Decant|Tester|Oriental",
            es_attrs="Amaderado|Floral|Importado|Larga Fijación|Decant|Tester|Oriental",
            sizes="100ml|100ml|50ml|75ml|30ml|200ml|150ml|5ml",
        ),
        _DomainSpec(
            "MLB-DEODORANTS", "D",
            pt="Desodorante|Desodorante|Desodorante Aerosol|Antitranspirante|Desodorante Roll-on|Desodorante Stick",
            es="Desodorante|Desodorante|Antitranspirante|Desodorante en Aerosol|Desodorante Roll-on|Desodorante en Barra",
            pt_attrs="48h|72h|Sem Álcool|Antimanchas|Aerosol|Roll-on|Não Mancha a Roupa|Toque Seco|Sem Perfume",
            es_attrs="48h|72h|Sin Alcohol|Antimanchas|Aerosol|Roll-on|No Mancha la Ropa|Toque Seco|Sin Perfume",
            sizes="150ml|150ml|50ml|90g|200ml|75ml",
        ),
    ),
    lines="""
        La Roche-Posay | Anthelios | U
        La Roche-Posay | Anthelios XL Protect | U
        La Roche-Posay | Effaclar | FU
        La Roche-Posay | Hyalu B5 | F
        La Roche-Posay | Cicaplast | FL
        La Roche-Posay | Lipikar | L
        La Roche-Posay | Toleriane | FB
        Vichy | Idéal Soleil | U
        Vichy | Liftactiv | F
        Vichy | Minéral 89 | F
        Vichy | Dermablend | B
        Vichy | Normaderm | FU
        Neutrogena | Sun Fresh | U
        Neutrogena | Hydro Boost | FL
        Neutrogena | Norwegian | L
        Neutrogena | Purified Skin | F
        Nivea | Sun | U
        Nivea | Soft | FL
        Nivea | Milk | L
        Nivea | Men | FLD
        Nivea | Invisible Black & White | D
        Nivea | Cellular Luminous 630 | F
        Nivea | Dry Comfort | D
        Nivea | Sun Protect & Hidrata | UL
        Natura | Ekos | LPD
        Natura | Tododia | LPD
        Natura | Chronos | FU
        Natura | Una | BKRN
        Natura | Kaiak | PD
        Natura | Essencial | PD
        Natura | Faces | BKR
        O Boticário | Malbec | PDL
        O Boticário | Lily | PL
        O Boticário | Nativa SPA | LP
        O Boticário | Cuide-se Bem | LPD
        O Boticário | Egeo | PD
        O Boticário | Make B. | BKRN
        O Boticário | Floratta | PLD
        Maybelline | Fit Me | B
        Maybelline | Superstay | BK
        Maybelline | Lash Sensational | R
        Maybelline | Colossal | R
        Maybelline | Sky High | R
        Maybelline | Color Sensational | K
        Risqué | Diamond Gel | N
        Risqué | Nude Collection | N
        Risqué | Cremoso | N
        Avon | Color Trend | BKRN
        Avon | Renew | F
        Avon | Far Away | P
        Avon | Power Stay | BK
        Avon | Ultra Color | K
        Avon | Care | LD
        Avon | Musk | PD
        Eudora | Glam | BKR
        Eudora | Instance | L
        Eudora | Niina Secrets | BKR
        Eudora | Kiss Me | PL
        Vult | Make Up | BKRN
        Ruby Rose | Feels | BK
        Dailus | Color | KN
        Impala | A Cor da Sua Moda | N
        Colorama | Efeito Gel | N
        Rexona | Clinical | D
        Rexona | Motionsense | D
        Rexona | Men V8 | D
        Dove | Original | DL
        Dove | Invisible Dry | D
        Dove | Nutrição Profunda | L
        CeraVe | Moisturizing | FL
        CeraVe | Skin Renewing | F
        Episol | Color | U
        Sundown | Praia e Piscina | U
        Isdin | Fusion Water | U
        Bioderma | Photoderm | U
        Bioderma | Sensibio | F
        Paco Rabanne | 1 Million | P
        Carolina Herrera | 212 VIP | P
        Dior | Sauvage | PD
        Calvin Klein | CK One | PD
        Lancôme | La Vie Est Belle | P
        Lancôme | Teint Idole | B
        Lancôme | Hypnôse | R
        MAC | Studio Fix | B
        MAC | Retro Matte | K
    """,
    pt_attrs="Vegano|Dermatologicamente Testado|Hipoalergênico|Cruelty Free|Longa Duração|Feminino|Masculino|Pele Sensível|Todos os Tipos de Pele|Sem Parabenos",
    es_attrs="Vegano|Dermatológicamente Testado|Hipoalergénico|Cruelty Free|Larga Duración|Mujer|Hombre|Piel Sensible|Todo Tipo de Piel|Sin Parabenos",
    pt_generic="Kit Presente|Kit Beleza|Produto de Beleza|Kit Autocuidado",
    es_generic="Kit de Regalo|Set de Belleza|Kit Belleza|Kit Cuidado Personal",
)

_PHONES = _FamilySpec(
    "phones",
    (
        _DomainSpec(
            "MLB-CELLPHONES", "P",
            pt="Celular|Celular|Smartphone|Celular Smartphone|Aparelho Celular",
            es="Celular|Smartphone|Teléfono Celular|Móvil|Celular Libre",
            pt_attrs="8gb Ram|4gb Ram|6gb Ram|12gb Ram|5G|4G|Dual Chip|Tela 6.5|Tela 6.7 Pol|Câmera 50mp|Câmera Tripla|Bateria 5000mah|Desbloqueado|Vitrine|Nfc|Android 14",
            es_attrs="8gb Ram|4gb Ram|6gb Ram|5G|4G|Dual Sim|Pantalla 6.5|Cámara 50mp|Triple Cámara|Batería 5000mah|Liberado|Nfc|Android 14",
            sizes="64GB|128GB|128GB|256GB|256GB|512GB",
        ),
        _DomainSpec(
            "MLB-CELLPHONE_COVERS", "C",
            pt="Capinha|Capinha|Capa|Case|Capa Case|Capinha Case|Capa Celular",
            es="Funda|Funda|Case|Carcasa|Funda Case|Estuche",
            pt_attrs="Anti Impacto|Silicone|Transparente|Magsafe|Com Alça|Carteira|Flip|Aveludada|Com Cordão|Proteção de Câmera|Emborrachada",
            es_attrs="Antigolpes|Silicona|Transparente|Magsafe|Con Correa|Billetera|Flip|Aterciopelada|Con Cordón|Protector de Cámara|Anti Impacto",
            makers="Gshield|Spigen|Customic|UAG|Otterbox|Rhinoshield|Tech21",
            compat=True,
        ),
        _DomainSpec(
            "MLB-SCREEN_PROTECTORS", "S",
            pt="Película|Película|Pelicula de Vidro|Película 3D|Película de Privacidade|Película Hydrogel",
            es="Protector de Pantalla|Vidrio Templado|Mica|Film Hidrogel|Protector de Pantalla Vidrio",
            pt_attrs="Vidro 3D|Vidro 9D|9H|Privacidade|Hydrogel|Cerâmica|Anti Espião|Fosca|Cobre Tela Toda|Lente da Câmera|Vidro Temperado",
            es_attrs="Vidrio Templado|9H|Privacidad|Hidrogel|Cerámica|Antiespía|Mate|Cobertura Total|Lente de Cámara|Vidrio 9D",
            makers="Gshield|HPrime|Kingo|Spigen|Nillkin",
            compat=True,
        ),
        _DomainSpec(
            "MLB-CELLPHONE_CHARGERS", "G",
            pt="Carregador|Carregador|Carregador Turbo|Fonte Carregador|Carregador Rápido|Carregador Veicular",
            es="Cargador|Cargador|Cargador Rápido|Cargador Turbo|Cargador de Pared|Cargador para Auto",
            pt_attrs="Tipo C|USB-C|Turbo|Cabo 1m|Cabo 2m|Lightning|Carga Rápida|Sem Fio|Indução|Power Delivery",
            es_attrs="Tipo C|USB-C|Carga Rápida|Cable 1m|Cable 2m|Lightning|Inalámbrico|Inducción|Power Delivery",
            sizes="15W|18W|20W|20W|25W|33W|45W|65W",
            makers="Baseus|Anker|Ugreen|Geonav|i2GO",
            compat=True,
        ),
        _DomainSpec(
            "MLB-HEADPHONES", "H",
            pt="Fone de Ouvido|Fone de Ouvido|Fone Bluetooth|Headphone|Fone|Earbuds|Headset",
            es="Auriculares|Auriculares|Audífonos|Auricular Bluetooth|Headset|Audífonos Inalámbricos",
            pt_attrs="Bluetooth 5.3|Sem Fio|Cancelamento de Ruído|TWS|Com Microfone|Gamer|Intra Auricular|Over Ear|Esportivo|Com Fio P2",
            es_attrs="Bluetooth 5.3|Inalámbrico|Cancelación de Ruido|TWS|Con Micrófono|Gamer|In Ear|Over Ear|Deportivo",
        ),
        _DomainSpec(
            "MLB-SMARTWATCHES", "W",
            pt="Smartwatch|Smartwatch|Relógio Inteligente|Smart Watch|Relógio Smartwatch",
            es="Smartwatch|Reloj Inteligente|Smart Watch|Reloj Smartwatch",
            pt_attrs="Monitor Cardíaco|Oxímetro|GPS|À Prova D'água|Pulseira Extra|Tela Amoled|Bluetooth|Chamadas|Notificações|Esportivo",
            es_attrs="Monitor Cardíaco|Oxímetro|GPS|Resistente al Agua|Malla Extra|Pantalla Amoled|Bluetooth|Llamadas|Notificaciones|Deportivo",
            sizes="40mm|41mm|44mm|45mm|46mm|49mm",
        ),
    ),
    lines="""
        Samsung | Galaxy A15 | PCSG
        Samsung | Galaxy A25 | PCSG
        Samsung | Galaxy A34 | PCSG
        Samsung | Galaxy A54 | PCSG
        Samsung | Galaxy A05s | PCSG
        Samsung | Galaxy S23 | PCSG
        Samsung | Galaxy S23 Ultra | PCSG
        Samsung | Galaxy S24 | PCSG
        Apple | iPhone 11 | PCSG
        Apple | iPhone 12 | PCSG
        Apple | iPhone 13 | PCSG
        Apple | iPhone 13 Pro | PCSG
        Apple | iPhone 14 | PCSG
        Apple | iPhone 14 Pro Max | PCSG
        Apple | iPhone 15 | PCSG
        Apple | iPhone 15 Pro Max | PCSG
        Motorola | Moto G54 | PCSG
        Motorola | Moto G84 | PCSG
        Motorola | Moto E13 | PCSG
        Motorola | Moto G23 | PCSG
        Motorola | Edge 40 | PCSG
        Xiaomi | Redmi Note 13 | PCSG
        Xiaomi | Redmi Note 12 | PCSG
        Xiaomi | Redmi 13C | PCSG
        Xiaomi | Poco X6 Pro | PCSG
        Realme | C55 | PCSG
        Samsung | Super Fast Charging | G
        Apple | MagSafe | GC
        Motorola | TurboPower 30 | G
        Xiaomi | Mi Turbo Charge | G
        JBL | Tune 520BT | H
        JBL | Tune 720BT | H
        JBL | Wave Buds | H
        Apple | AirPods Pro 2 | HC
        Apple | AirPods 3 | HC
        Samsung | Galaxy Buds 2 Pro | HC
        Samsung | Galaxy Buds FE | H
        Xiaomi | Redmi Buds 4 | H
        Xiaomi | Redmi Buds 5 | H
        Sony | WH-1000XM5 | H
        Sony | WH-CH520 | H
        QCY | T13 | H
        Lenovo | LP40 Pro | H
        Edifier | W820NB | H
        Apple | Watch Series 9 | WSC
        Apple | Watch SE | WS
        Apple | Watch Ultra 2 | WS
        Samsung | Galaxy Watch 6 | WS
        Samsung | Galaxy Watch 5 Pro | W
        Xiaomi | Redmi Watch 3 | W
        Xiaomi | Mi Band 8 | WS
        Xiaomi | Smart Band 8 | W
        Amazfit | Bip 5 | W
        Amazfit | GTR 4 | W
        Haylou | Solar Plus | W
        Huawei | Watch Fit 3 | W
        Huawei | Band 9 | W
    """,
    pt_attrs="Preto|Azul|Branco|Verde|Lilás|Grafite|Rosa|Versão Global|Lançamento|Nacional",
    es_attrs="Negro|Azul|Blanco|Verde|Lila|Grafito|Rosa|Versión Global|Lanzamiento",
    pt_generic="Acessório|Kit Acessórios|Eletrônico|Kit Tecnologia",
    es_generic="Accesorio|Kit Accesorios|Electrónico|Kit Tecnología",
)

_KITCHEN = _FamilySpec(
    "kitchen",
    (
        _DomainSpec(
            "MLB-COFFEE_MAKERS", "C",
            pt="Cafeteira|Cafeteira|Cafeteira Elétrica|Cafeteira Expresso|Máquina de Café|Cafeteira Italiana",
            es="Cafetera|Cafetera|Cafetera Eléctrica|Máquina de Café|Cafetera Express|Cafetera Italiana",
            pt_attrs="15 Bar|20 Bar|30 Xícaras|Cápsulas|Vaporizador|Jarra Térmica|Filtro Permanente|Multibebidas|Jarra de Vidro|Timer",
            es_attrs="15 Bar|20 Bar|30 Tazas|Cápsulas|Vaporizador|Jarra Térmica|Filtro Permanente|Multibebidas|Jarra de Vidrio|Temporizador",
            sizes="600W|800W|1450W|1,2L|1,5L|0,8L",
        ),
        _DomainSpec(
            "MLB-BLENDERS", "B",
            pt="Liquidificador|Liquidificador|Liquidificador Turbo|Liquidificador Potente|Blender|Liquidificador Portátil",
            es="Licuadora|Licuadora|Licuadora Turbo|Licuadora Potente|Blender|Licuadora Portátil",
            pt_attrs="12 Velocidades|Lâminas de Aço|Função Pulsar|Copo de Vidro|Copo Inquebrável|Jarra de Vidro",
            es_attrs="12 Velocidades|Cuchillas de Acero|Función Pulso|Vaso de Vidrio|Vaso Irrompible|Jarra de Vidrio",
            sizes="600W|900W|1000W|1200W|1400W|3L|2,6L|1,5L",
        ),
        _DomainSpec(
            "MLB-AIR_FRYERS", "A",
            pt="Air Fryer|Air Fryer|Fritadeira Elétrica|Fritadeira Sem Óleo|Airfryer|Fritadeira Air Fryer|Forno Air Fryer",
            es="Freidora de Aire|Air Fryer|Freidora Sin Aceite|Freidora Eléctrica|Airfryer|Horno Freidora",
            pt_attrs="Cesto Quadrado|Painel Digital|Oven|Visor|Cesto Removível|Antiaderente|Timer",
            es_attrs="Canasta Cuadrada|Panel Digital|Horno|Visor|Canasta Removible|Antiadherente|Temporizador",
            sizes="3,2L|4L|4,2L|5L|5,5L|12L|1500W|1700W",
        ),
        _DomainSpec(
            "MLB-ELECTRIC_KETTLES", "K",
            pt="Chaleira Elétrica|Chaleira Elétrica|Jarra Elétrica|Chaleira|Chaleira Elétrica Inox",
            es="Pava Eléctrica|Hervidor Eléctrico|Tetera Eléctrica|Hervidor de Agua|Pava",
            pt_attrs="Base Giratória 360|Controle de Temperatura|Chimarrão|Sem Fio|Jarra de Vidro",
            es_attrs="Base Giratoria 360|Control de Temperatura|Mate|Inalámbrica|Jarra de Vidrio",
            sizes="1L|1,2L|1,7L|1,8L|1850W|1500W",
        ),
        _DomainSpec(
            "MLB-SANDWICH_MAKERS", "S",
            pt="Sanduicheira|Sanduicheira|Grill|Sanduicheira e Grill|Sanduicheira Elétrica|Mini Grill",
            es="Sandwichera|Sandwichera|Grill|Tostadora de Sándwich|Sandwichera Eléctrica|Parrilla Eléctrica",
            pt_attrs="Chapas Removíveis|2 Fatias|Luz Indicadora|Chapa Canelada|Antiaderente",
            es_attrs="Placas Removibles|2 Panes|Luz Indicadora|Placa Acanalada|Antiadherente",
            sizes="750W|800W|1000W|1200W",
        ),
    ),
    lines="""
        Oster | Xpert Series | B
        Oster | Prima Latte | C
        Oster | Inox Compact | CK
        Oster | DuraCeramic | A
        Oster | Digital | AKS
        Mondial | Turbo Power | B
        Mondial | Dolce Arome | C
        Mondial | Family | ABS
        Mondial | Pratic | CKS
        Mondial | Grand Family | A
        Mondial | Premium Inox | ABCK
        Philco | PLQ1300 | B
        Philco | Gourmet Black | ABCKS
        Philco | Air Fry Oven | A
        Britânia | Diamante | B
        Britânia | BFR38 | A
        Britânia | BLQ1400 | B
        Britânia | CP15 | C
        Britânia | Black Inox | ABCKS
        Arno | Power Mix | B
        Arno | Nescafé Dolce Gusto Mini Me | C
        Arno | Airfry Super | A
        Arno | Uno | K
        Electrolux | Efficient | ABCKS
        Electrolux | Love Your Day | ABCK
        Electrolux | Expressionist | ABCK
        Nespresso | Essenza Mini | C
        Nespresso | Vertuo Pop | C
        Nespresso | Inissia | C
        Cadence | Colors | ABCKS
        Cadence | Desperta | C
        Black+Decker | Turbo | BA
        Philips Walita | Airfryer XL | A
        Philips Walita | Daily Collection | ABCK
        Tramontina | By Breville | ACK
        Hamilton Beach | Classic | BKS
    """,
    pt_attrs="110v|127v|220v|Bivolt|Inox|Preta|Vermelha|Branca|Digital|Desligamento Automático|Compacta",
    es_attrs="110v|220v|Acero Inoxidable|Negra|Roja|Blanca|Digital|Apagado Automático|Compacta",
    pt_generic="Eletroportátil|Eletrodoméstico|Kit Cozinha|Utensílio Elétrico",
    es_generic="Electrodoméstico|Pequeño Electrodoméstico|Kit Cocina",
)

_FASHION = _FamilySpec(
    "fashion",
    (
        _DomainSpec(
            "MLB-SNEAKERS", "T",
            pt="Tênis|Tênis|Tenis|Tênis Masculino|Tênis Feminino|Tênis Esportivo|Tênis Casual",
            es="Zapatillas|Zapatillas|Tenis|Zapatillas Deportivas|Zapatillas Urbanas|Tenis Deportivo",
            pt_attrs="Tam 40|Tamanho 42|Nº 38|Corrida|Caminhada|Amortecimento|Cano Alto|Couro|Leve",
            es_attrs="Talle 40|Talla 42|N° 38|Running|Caminata|Amortiguación|Caña Alta|Cuero|Liviana",
        ),
        _DomainSpec(
            "MLB-FLIP_FLOPS", "H",
            pt="Chinelo|Chinelo|Sandália|Chinelo Slide|Chinelo de Dedo|Rasteirinha|Sandália Papete",
            es="Ojotas|Sandalias|Chanclas|Chinelas|Ojotas Slide|Sandalia",
            pt_attrs="Tam 37/38|39/40|Slide|Antiderrapante|Confortável|Praia|Nuvem",
            es_attrs="Talle 37/38|Slide|Antideslizante|Cómodas|Playa|Nube",
        ),
        _DomainSpec(
            "MLB-T_SHIRTS", "C",
            pt="Camiseta|Camiseta|Camisa|Blusa|T-shirt|Camiseta Básica|Camisa Polo|Regata",
            es="Remera|Remera|Camiseta|Playera|Polera|Remera Básica|Chomba",
            pt_attrs="Tamanho M|Tam G|GG|100% Algodão|Gola V|Gola Careca|Manga Longa|Oversized|Dry Fit|Estampada",
            es_attrs="Talle M|Talla L|XL|100% Algodón|Cuello V|Cuello Redondo|Manga Larga|Oversize|Dry Fit|Estampada",
        ),
        _DomainSpec(
            "MLB-SHORTS", "S",
            pt="Bermuda|Bermuda|Short|Shorts|Bermuda Masculina|Short Feminino|Short de Praia",
            es="Bermuda|Short|Pantalón Corto|Short de Baño|Shorts",
            pt_attrs="Tam 40|Tamanho M|Tactel|Moletom|Jeans|Com Bolso|Praia|Dry Fit",
            es_attrs="Talle 40|Talle M|Jean|Con Bolsillos|Playa|Dry Fit|Algodón",
        ),
    ),
    lines="""
        Nike | Air Max | T
        Nike | Revolution 6 | T
        Nike | Air Force 1 | T
        Nike | Court Vision | T
        Nike | Dri-FIT | CS
        Nike | Sportswear | TCS
        Nike | Victori One | H
        Adidas | Ultraboost | T
        Adidas | Runfalcon | T
        Adidas | Grand Court | T
        Adidas | Adilette | H
        Adidas | Essentials | CS
        Adidas | 3-Stripes | TCHS
        Olympikus | Corre 3 | T
        Olympikus | Diffuse | T
        Olympikus | Essential | TCS
        Mizuno | Wave Prophecy | T
        Mizuno | Wave Rider | T
        Havaianas | Top | H
        Havaianas | Slim | H
        Havaianas | Brasil | HC
        Havaianas | Logo | HCS
        Puma | Smash | T
        Puma | Essentials | CS
        Puma | Leadcat | H
        Fila | Float | T
        Fila | Letter | CS
        Vans | Old Skool | T
        Vans | Classic | TC
        Hering | Básica | C
        Hering | Super Cotton | CS
        Reserva | Pica-Pau | CS
        Lacoste | Regular Fit | CS
        Lacoste | Croco | THC
        Kappa | Banda | CSH
        Ipanema | Anatomica | H
        Rider | Street | H
    """,
    pt_attrs="Masculino|Feminino|Unissex|Infantil|Preto|Branco|Azul Marinho|Casual|Esportivo|Academia",
    es_attrs="Hombre|Mujer|Unisex|Niños|Negro|Blanco|Azul Marino|Casual|Deportivo|Gimnasio",
    pt_generic="Moda Masculina|Moda Feminina|Kit Verão|Look Esportivo",
    es_generic="Moda Hombre|Moda Mujer|Kit Verano|Look Deportivo",
)

# Pet supplies never appear in the catalogue: they are the "unseen_domain" shift.
_PETS = _FamilySpec(
    "pets",
    (
        _DomainSpec(
            "MLB-DOG_FOODS", "D",
            pt="Ração|Ração Para Cachorro|Ração Cães|Ração Seca",
            es="Alimento para Perros|Croquetas|Comida para Perro|Alimento Balanceado",
            sizes="15kg|10,1kg|20kg|3kg|1kg",
        ),
        _DomainSpec(
            "MLB-CAT_FOODS", "C",
            pt="Ração Para Gatos|Ração Gato|Sachê|Ração Úmida Gatos",
            es="Alimento para Gatos|Comida para Gato|Sobre Húmedo",
            sizes="1kg|3kg|10,1kg|85g|7,5kg",
        ),
        _DomainSpec(
            "MLB-CAT_LITTERS", "L",
            pt="Areia Sanitária|Areia Para Gato|Granulado Sanitário",
            es="Arena Sanitaria|Arena para Gatos|Piedras Sanitarias",
            sizes="2kg|4kg|12kg|20kg",
        ),
        _DomainSpec(
            "MLB-PET_BEDS", "B",
            pt="Caminha Pet|Cama Para Cachorro|Caminha Para Gato|Almofada Pet",
            es="Cama para Perro|Cucha|Cama para Gato|Colchón Mascota",
            sizes="60cm|70x50cm|80x60cm",
        ),
    ),
    lines="""
        Golden | Fórmula | DC
        Golden | Special | D
        Premier | Raças Específicas | D
        Premier | Gatos Castrados | C
        Royal Canin | Medium Adult | D
        Royal Canin | Indoor | C
        Pedigree | Nutrição Essencial | D
        Whiskas | Carne | C
        Friskies | Mix de Carnes | C
        Pipicat | Classic | L
        Viva Verde | Grãos Finos | L
        Chalesco | Conforto | B
        Fabrica Pet | Premium | B
    """,
    pt_attrs="Adulto|Filhote|Castrados|Raças Pequenas|Raças Médias e Grandes|Sênior|Frango|Carne|Salmão",
    es_attrs="Adulto|Cachorro|Castrados|Razas Pequeñas|Razas Medianas y Grandes|Senior|Pollo|Carne|Salmón",
    pt_generic="Pet Shop|Produto Pet|Kit Pet",
    es_generic="Pet Shop|Producto Mascotas|Kit Mascota",
)

_CATALOGUE_FAMILIES = (_HAIR_CARE, _HAIR_APPLIANCES, _BEAUTY, _PHONES, _KITCHEN, _FASHION)

# Brands and lines sold under another name in Spanish-speaking markets.
_ES_BRANDS = {"Seda": "Sedal", "Elseve": "Elvive", "Britânia": "Britania"}
_ES_LINES = {
    "Hidra Hialurônico": "Hidra Hialurónico",
    "Elseve Hidra Hialurônico": "Elvive Hidra Hialurónico",
    "Óleo Extraordinário": "Óleo Extraordinario",
    "Reparação Total 5+": "Reparación Total 5",
    "Cachos Longos dos Sonhos": "Rizos Definidos",
    "Restauração": "Restauración",
    "Hidro-Cauterização": "Hidro-Cauterización",
    "Cachos Hidra-Vitaminados": "Rizos Definidos",
    "Hidratação Profunda": "Hidratación Profunda",
    "Reconstrução e Força": "Reconstrucción y Fuerza",
    "Reconstrução Completa": "Reconstrucción Completa",
    "Óleo Nutrição": "Óleo Nutrición",
    "Hidratação Intensa": "Hidratación Intensa",
    "Nutrição Profunda": "Nutrición Profunda",
}

# Invented names, checked at import against every training brand and line, used by the
# "new_brands" shift so a model meets product names it cannot have memorised.
_NEW_BRANDS = "Velmora|Kastrel|Novanti|Brisaluz|Quorra|Tarvik|Olluma|Ferrano|Lumexa|Dravix|Solvenn|Marivela|Pyxon|Zelthar|Orvanna"
_NEW_LINES = "Aurora Plus|Nébula|Vortex 9|Essenza Pura|Zen Fórmula|Pulse X|Cristal Max|Terra Viva|Nova One|Alma Leve|Orbit 7|Brisa Sense"

_SELLER_NOISE = {
    "pt": "Original|Original|Frete Grátis|Frete Grátis|Promoção|Oferta|Lacrado|Pronta Entrega|Kit 3 Un|Kit 2 Unidades|Envio Imediato|Com Nota Fiscal|Novo|Atacado|Menor Preço|Super Oferta|Lançamento|Envio Já",
    "es": "Original|Envío Gratis|Envío Gratis|Nuevo|Original Sellado|Oferta|Promoción|Entrega Inmediata|Pack x 3|Pack 2 Unidades|Garantía|Factura A|Mejor Precio|Liquidación|Envío Full|Cuotas Sin Interés",
}
_SIBLING_JOINS = {"pt": (" + ", " + ", " e ", " com "), "es": (" + ", " + ", " y ", " con ")}
_COMPAT_WORDS = {"pt": ("para", "para", "Compatível com"), "es": ("para", "para", "Compatible con")}

# Slot orders: N noun, B brand+line, A attributes, S size. "NBAS" is the house style.
_TEMPLATES = ("NBAS", "NBSA", "BNAS", "NABS", "BNSA", "ANBS", "NSBA")
_TEMPLATE_P = (0.34, 0.18, 0.14, 0.14, 0.08, 0.06, 0.06)
# Title modes. Ambiguous ones (>= _NOUNLESS) are ordered last so "mode >= _NOUNLESS"
# means "has no noun of its own".
_NORMAL, _SIBLING, _NOUNLESS, _GENERIC = range(4)
_MODE_P = (0.77, 0.06, 0.12, 0.05)
_MAX_TITLE = 60  # Mercado Libre's limit on title length  # normal, no head noun, sibling noun mentioned too
_N_ATTRS_P = (0.15, 0.35, 0.32, 0.18)
_N_NOISE_P = (0.55, 0.33, 0.12)
_CASE_P = (0.50, 0.22, 0.18, 0.10)  # as written, Title, UPPER, lower
_ORDER_SEED = 20_240_601  # fixes the Zipf ranking; deliberately not the user's seed
_SIBLING_NOISE_SHARE = 0.8
_NOUNLESS_SHARED_ATTRS = 0.75
_UNSEEN_SHARE = 0.3
_SWITCHED_SPANISH_SHARE = 0.9
_N_U = 22  # uniform draws per row, one column per independent choice


def _split(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split("|") if x.strip())


def _parse_lines(text: str) -> list[tuple[str, str, str]]:
    rows = [line.split("|") for line in text.strip().splitlines()]
    return [(b.strip(), ln.strip(), codes.strip()) for b, ln, codes in rows]


_SELLER_NOISE_SPLIT = {lang: _split(text) for lang, text in _SELLER_NOISE.items()}


# ---------------------------------------------------------------------------
# Compiled lookup tables: one per (language, domain), built once per brand set.
# ---------------------------------------------------------------------------


class _Table(NamedTuple):
    lang: str
    nouns: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # (brand, line) this domain sells
    attrs: tuple[str, ...]
    shared_attrs: tuple[str, ...]  # the family's, used where a title hides its noun
    generic: tuple[str, ...]  # family-wide stand-ins for the noun
    sizes: tuple[str, ...]  # already expanded into written variants
    makers: tuple[str, ...]
    compat: bool
    siblings: tuple[int, ...]  # indices of the other domains of the family


def _all_domains() -> list[tuple[_FamilySpec, _DomainSpec]]:
    """Catalogue domains sorted by id, then the unseen pet domains."""
    cat = [(f, d) for f in _CATALOGUE_FAMILIES for d in f.domains]
    pets = [(_PETS, d) for d in _PETS.domains]
    return sorted(cat, key=lambda fd: fd[1].id) + sorted(pets, key=lambda fd: fd[1].id)


_ALL = _all_domains()
_ALL_IDS = tuple(d.id for _, d in _ALL)
_N_CATALOGUE = sum(len(f.domains) for f in _CATALOGUE_FAMILIES)
_SIBLINGS = tuple(
    tuple(j for j, (g, _) in enumerate(_ALL) if g is f and j != i) for i, (f, _) in enumerate(_ALL)
)


def _size_variants(size: str) -> tuple[str, ...]:
    """Ways sellers write one size; repeats weight the plain form."""
    digits = len(size) - len(size.lstrip("0123456789,."))
    num, unit = size[:digits], size[digits:]
    if not num or unit.startswith(" "):
        return (size,)
    variants = (size,) * 5 + (f"{num} {unit}",) * 2
    # Only consumables come in multi-packs; "2 x 1500W" is not how anyone sells a dryer.
    if unit in ("ml", "g", "kg"):
        variants += (f"2 x {size}", f"Kit 3 x {size}")
    return variants


def _localise(brand: str, line: str, lang: str) -> tuple[str, str]:
    if lang == "es":
        return _ES_BRANDS.get(brand, brand), _ES_LINES.get(line, line)
    return brand, line


def _domain_pairs(family: _FamilySpec, code: str, lang: str, new_brands: bool):
    if new_brands:
        return tuple((b, ln) for b in _split(_NEW_BRANDS) for ln in _split(_NEW_LINES))
    lines = _parse_lines(family.lines)
    return tuple(_localise(b, ln, lang) for b, ln, codes in lines if code in codes)


def _table(i: int, lang: str, new_brands: bool) -> _Table:
    family, d = _ALL[i]
    own = _split(getattr(d, f"{lang}_attrs"))
    shared = _split(getattr(family, f"{lang}_attrs"))
    # Own attributes count double: they are what still separates siblings.
    attrs = own + shared
    makers = _split(_NEW_BRANDS) if new_brands and d.makers else _split(d.makers)
    sizes = tuple(v for s in _split(d.sizes) for v in _size_variants(s))
    return _Table(lang, _split(getattr(d, lang)), _domain_pairs(family, d.code, lang, new_brands),
                  attrs, shared or attrs, _split(getattr(family, f"{lang}_generic")), sizes, makers, d.compat, _SIBLINGS[i])


@functools.lru_cache(maxsize=2)
def _tables(new_brands: bool) -> tuple[tuple[_Table, ...], tuple[_Table, ...]]:
    """Tables indexed [is_spanish][domain index]."""
    return tuple(tuple(_table(i, lang, new_brands) for i in range(len(_ALL))) for lang in LANGUAGES)


def _training_brand_names() -> set[str]:
    """Every brand a catalogue title can name, in both languages (tests use it)."""
    names = set()
    for lang_tables in _tables(False):
        for t in lang_tables[:_N_CATALOGUE]:
            names.update(b for b, _ in t.pairs)
            names.update(t.makers)
    return names


def _accent_table() -> dict[int, str]:
    """NFKD-and-drop-combining-marks, precomputed as a str.translate table for speed."""
    table = {}
    for cp in range(0xC0, 0x250):
        base = "".join(c for c in unicodedata.normalize("NFKD", chr(cp)) if not unicodedata.combining(c))
        if base and base != chr(cp):
            table[cp] = base
    return table


_ACCENTS = _accent_table()


def domain_ids() -> list[str]:
    """All domain ids the generator can emit, sorted."""
    return sorted(_ALL_IDS[:_N_CATALOGUE])


def _check_new_names_unseen() -> None:
    seen = {w.lower() for t in _tables(False)[0] + _tables(False)[1] for p in t.pairs for w in p}
    clash = seen & {w.lower() for w in _split(_NEW_BRANDS) + _split(_NEW_LINES)}
    if clash:
        raise RuntimeError(f"new_brands vocabulary overlaps training names: {sorted(clash)}")


_check_new_names_unseen()


# ---------------------------------------------------------------------------
# Title assembly. Choices are drawn per chunk with numpy; the join is per row.
# ---------------------------------------------------------------------------


def _pick(seq, u: float):
    return seq[int(u * len(seq))]


def _noun(tabs, t: _Table, mode: int, u) -> str:
    if mode == _NOUNLESS:
        return ""
    if mode == _GENERIC:
        return _pick(t.generic, u[0]) if t.generic else ""
    noun = _pick(t.nouns, u[0])
    if mode != _SIBLING or not t.siblings:
        return noun
    other = _pick(tabs[_pick(t.siblings, u[6])].nouns, u[7])
    join = _pick(_SIBLING_JOINS[t.lang], u[8])
    # A quarter name the sibling first: "Kit Condicionador + Shampoo" sold as shampoo.
    pair = f"{other}{join}{noun}" if u[21] < 0.25 else f"{noun}{join}{other}"
    return f"Kit {pair}" if u[19] < 0.4 else pair


def _brand_line(t: _Table, mode: int, flags: int, u) -> str:
    brand, line = _pick(t.pairs, u[1])
    if mode < _NOUNLESS:  # a title without its noun keeps brand and line, or it says nothing
        brand = brand if flags & 1 else ""
        line = line if flags & 2 else ""
    text = f"{line} {brand}" if u[16] > 0.9 else f"{brand} {line}"
    text = text.strip()
    if t.compat and text and mode < _NOUNLESS and flags & 8:
        text = f"{_pick(_COMPAT_WORDS[t.lang], u[20])} {text}"
    if t.makers and flags & 4:
        text = f"{_pick(t.makers, u[12])} {text}".strip()
    return text


def _attrs(t: _Table, mode: int, n: int, u) -> str:
    # Noun-less titles mostly carry family-wide attributes ("Sem Sal", "Bivolt"), which
    # is what keeps "Elseve Hidra Hialurônico 400ml Sem Sal" genuinely ambiguous.
    pool = t.shared_attrs if mode >= _NOUNLESS and u[18] < _NOUNLESS_SHARED_ATTRS else t.attrs
    chosen = dict.fromkeys(_pick(pool, u[3 + k]) for k in range(n))
    return " ".join(chosen)


def _title(tabs, t: _Table, row, u) -> str:
    mode, tmpl, n_attr, n_noise, flags = row
    slots = {
        "N": _noun(tabs, t, mode, u),
        "B": _brand_line(t, mode, flags, u),
        "A": _attrs(t, mode, n_attr, u),
        "S": _pick(t.sizes, u[2]) if t.sizes and flags & 16 else "",
    }
    words = [slots[c] for c in _TEMPLATES[tmpl]]
    noise = _SELLER_NOISE_SPLIT[t.lang]
    for k in range(n_noise):
        item = _pick(noise, u[9 + k])
        if u[11] < 0.3 and k == 0:
            words.insert(0, item)
        else:
            words.append(item)
    return " ".join(w for w in words if w)


def _typo(title: str, u) -> str:
    """Drop, double or swap one character of one word, as hurried sellers do."""
    words = title.split(" ")
    cands = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not cands:
        return title
    i = _pick(cands, u[13])
    w = words[i]
    k = 1 + int(u[14] * (len(w) - 2))  # never the first letter: sellers rarely miss it
    op = int(u[15] * 3)
    if op == 0:
        w = w[:k] + w[k + 1:]
    elif op == 1:
        w = w[:k] + w[k] + w[k:]
    else:
        w = w[:k - 1] + w[k] + w[k - 1] + w[k + 1:]
    words[i] = w
    return " ".join(words)


def _roughen(title: str, case: int, rough: int, u) -> str:
    if case == 1:
        title = title.title()
    elif case == 2:
        title = title.upper()
    elif case == 3:
        title = title.lower()
    if rough & 1:
        title = title.translate(_ACCENTS)
    if rough & 2:
        title = _typo(title, u)
    if rough & 4:
        gaps = [i for i, c in enumerate(title) if c == " "]
        if gaps:
            g = _pick(gaps, u[17])
            title = title[:g] + " " + title[g:]
    return _truncate(title)


def _truncate(title: str) -> str:
    """Cut at a word boundary to the marketplace's title limit; long titles lose their tail."""
    if len(title) <= _MAX_TITLE:
        return title
    cut = title.rfind(" ", 0, _MAX_TITLE + 1)
    return title[:cut].rstrip() if cut > 0 else title[:_MAX_TITLE]


# ---------------------------------------------------------------------------
# Chunks, labels and the Parquet writer.
# ---------------------------------------------------------------------------


class _Spec(NamedTuple):
    seed: int
    seed_tail: tuple[int, ...]  # keeps batch streams apart from the catalogue's
    weights: np.ndarray  # over _ALL, sums to 1
    spanish_share: float
    label_noise: float
    new_brands: bool
    id_prefix: str
    with_labels: bool


_ID_ARRAY = pa.array(_ALL_IDS, pa.string())
_LANG_ARRAY = pa.array(LANGUAGES, pa.string())


def _bits(rng: np.random.Generator, n: int, probs: tuple[float, ...]) -> list[int]:
    """Independent yes/no draws packed into one int per row (bit k has probability probs[k])."""
    out = np.zeros(n, np.int64)
    for k, p in enumerate(probs):
        out |= (rng.random(n) < p).astype(np.int64) << k
    return out.tolist()


def _titles(rng: np.random.Generator, dom: np.ndarray, spanish: np.ndarray, spec: _Spec) -> list[str]:
    n = len(dom)
    plan = zip(
        rng.choice(len(_MODE_P), n, p=_MODE_P).tolist(),
        rng.choice(len(_TEMPLATES), n, p=_TEMPLATE_P).tolist(),
        rng.choice(4, n, p=_N_ATTRS_P).tolist(),
        rng.choice(3, n, p=_N_NOISE_P).tolist(),
        _bits(rng, n, (0.85, 0.8, 0.3, 0.4, 0.65)),  # brand, line, maker, "para", size
    )
    case = rng.choice(4, n, p=_CASE_P).tolist()
    rough = _bits(rng, n, (0.3, 0.1, 0.06))  # accents dropped, typo, extra space
    u = rng.random((n, _N_U)).tolist()
    both = _tables(spec.new_brands)
    out = []
    for d, es, row, c, r, uu in zip(dom.tolist(), spanish.tolist(), plan, case, rough, u):
        tabs = both[es]
        out.append(_roughen(_title(tabs, tabs[d], row, uu), c, r, uu))
    return out


def _relabel(d: int, a: float, b: float, pool: np.ndarray) -> int:
    sibs = _SIBLINGS[d]
    if sibs and a < _SIBLING_NOISE_SHARE:
        return _pick(sibs, b)
    others = pool[pool != d]
    return int(others[int(b * len(others))])


def _noisy_labels(rng: np.random.Generator, dom: np.ndarray, spec: _Spec) -> tuple[np.ndarray, int]:
    noisy = np.flatnonzero(rng.random(len(dom)) < spec.label_noise)
    draws = rng.random((len(noisy), 2)).tolist()
    pool = np.flatnonzero(spec.weights > 0)
    labels = dom.copy()
    for i, (a, b) in zip(noisy.tolist(), draws):
        labels[i] = _relabel(int(dom[i]), a, b, pool)
    return labels, len(noisy)


def _chunk(spec: _Spec, index: int, start: int, n: int) -> tuple[pa.Table, np.ndarray, int]:
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, index, *spec.seed_tail]))
    dom = rng.choice(len(_ALL), size=n, p=spec.weights)
    spanish = rng.random(n) < spec.spanish_share
    titles = _titles(rng, dom, spanish, spec)
    labels, n_noisy = _noisy_labels(rng, dom, spec)
    cols = {
        "item_id": pa.array([f"{spec.id_prefix}{i:010d}" for i in range(start + 1, start + n + 1)], pa.string()),
        "title": pa.array(titles, pa.string()),
        "domain": _ID_ARRAY.take(pa.array(labels)),
        "language": _LANG_ARRAY.take(pa.array(spanish.astype(np.int8))),
    }
    if not spec.with_labels:
        del cols["domain"]
    return pa.table(cols), labels, n_noisy


def _write(path, rows: int, chunk_rows: int, spec: _Spec) -> dict:
    """Write chunk by chunk to a hidden temp file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    counts = np.zeros(len(_ALL), np.int64)
    n_noisy = 0
    try:
        writer = None
        for index, start in enumerate(range(0, rows, chunk_rows)):
            table, labels, noisy = _chunk(spec, index, start, min(chunk_rows, rows - start))
            writer = writer or pq.ParquetWriter(str(tmp), table.schema)
            writer.write_table(table)
            counts += np.bincount(labels, minlength=len(_ALL))
            n_noisy += noisy
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    per_domain = {_ALL_IDS[i]: int(c) for i, c in enumerate(counts) if c}
    return {"rows": rows, "domains": len(per_domain), "per_domain": dict(sorted(per_domain.items())),
            "label_noise_rows": n_noisy}


# ---------------------------------------------------------------------------
# Arguments and public entry points.
# ---------------------------------------------------------------------------


def _is_int(x) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def _is_real(x) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool) and np.isfinite(float(x))


def _validate(rows, seed, label_noise, zipf_exponent, spanish_share, chunk_rows) -> None:
    if not _is_int(rows) or rows < 1:
        raise ValueError(f"rows must be an int >= 1, got {rows!r}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not _is_real(label_noise) or not 0 <= label_noise <= 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5], got {label_noise!r}")
    if not _is_real(zipf_exponent) or zipf_exponent < 0:
        raise ValueError(f"zipf_exponent must be >= 0, got {zipf_exponent!r}")
    if not _is_real(spanish_share) or not 0 <= spanish_share <= 1:
        raise ValueError(f"spanish_share must be in [0, 1], got {spanish_share!r}")
    if not _is_int(chunk_rows) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an int >= 1, got {chunk_rows!r}")


def _zipf_weights(exponent: float, reverse: bool = False) -> np.ndarray:
    """Weights over _ALL: catalogue domain at rank r gets 1/r**exponent, pets get 0."""
    order = np.random.default_rng(_ORDER_SEED).permutation(_N_CATALOGUE)  # order[r-1] has rank r
    by_rank = np.arange(1, _N_CATALOGUE + 1, dtype=np.float64) ** -float(exponent)
    if reverse:
        by_rank = by_rank[::-1]
    w = np.zeros(len(_ALL))
    w[order] = by_rank
    return w / w.sum()


def generate_catalogue(path, rows: int, seed: int, *, label_noise: float = 0.02,
                       zipf_exponent: float = 1.0, spanish_share: float = 0.3,
                       chunk_rows: int = 100_000) -> dict:
    """Stream `rows` labelled titles to a Parquet file at `path`.

    Columns: ``item_id`` ("D0000000001"...), ``title``, ``domain``, ``language`` ("pt"/"es").
    The file appears only once complete (temp file + ``os.replace``); invalid arguments
    raise ``ValueError`` before anything is created. Returns
    ``{"rows", "domains", "per_domain", "label_noise_rows"}`` where ``per_domain`` counts
    the written (possibly noisy) labels.
    """
    _validate(rows, seed, label_noise, zipf_exponent, spanish_share, chunk_rows)
    spec = _Spec(int(seed), (), _zipf_weights(zipf_exponent), float(spanish_share),
                 float(label_noise), False, "D", True)
    return _write(path, int(rows), int(chunk_rows), spec)


def _batch_spec(seed: int, shift: str, with_labels: bool, label_noise: float,
                zipf_exponent: float, spanish_share: float) -> _Spec:
    weights = _zipf_weights(zipf_exponent, reverse=shift == "domain_mix")
    if shift == "unseen_domain":
        pets = np.zeros(len(_ALL))
        pets[_N_CATALOGUE:] = 1.0 / (len(_ALL) - _N_CATALOGUE)
        weights = (1 - _UNSEEN_SHARE) * weights + _UNSEEN_SHARE * pets
    if shift == "language_switch":
        spanish_share = _SWITCHED_SPANISH_SHARE
    return _Spec(int(seed), (1,), weights, float(spanish_share), float(label_noise),
                 shift == "new_brands", "B", bool(with_labels))


def generate_batch(path, rows: int, seed: int, *, shift: str = "none", with_labels: bool = True,
                   label_noise: float = 0.02, zipf_exponent: float = 1.0,
                   spanish_share: float = 0.3, chunk_rows: int = 100_000) -> dict:
    """Write a batch of titles to score, optionally under a distribution shift.

    Same columns as :func:`generate_catalogue` (item ids start with "B"), without
    ``domain`` when ``with_labels`` is False. Randomness comes from
    ``SeedSequence([seed, chunk, 1])``, so a batch never repeats the catalogue's rows.
    Shifts: ``none`` (catalogue distribution); ``new_brands`` (invented brands and lines
    replace every real one); ``domain_mix`` (Zipf ranking reversed); ``unseen_domain``
    (30% of rows are pet supplies, whose ids are not in :func:`domain_ids`);
    ``language_switch`` (90% Spanish, overriding ``spanish_share``). The summary also
    carries ``shift``; ``per_domain`` is filled even when labels are not written.
    """
    if shift not in SHIFTS:
        raise ValueError(f"shift must be one of {', '.join(SHIFTS)}; got {shift!r}")
    _validate(rows, seed, label_noise, zipf_exponent, spanish_share, chunk_rows)
    spec = _batch_spec(seed, shift, with_labels, label_noise, zipf_exponent, spanish_share)
    return {**_write(path, int(rows), int(chunk_rows), spec), "shift": shift}
