// The names the people seed is made of: given and family names of many cultures, each in its own
// script, most common first (the seed draws them with a skew, so "José García" is frequent and
// "Søren Kierkegaard" rare). A non-Latin name carries the Latin spelling its owner would pick a
// handle from, after a "|"; a Latin name's handle comes from its folded letters.

/** How a culture writes a full name. */
export type NameOrder =
  /** "Ada Lovelace"; Spanish and Portuguese names may take a second family name. */
  | "given family"
  /** "Nguyễn Văn An", "Kovács Péter", "山田 太郎". */
  | "family given"
  /** "李小龙", "김민준": no space. */
  | "family+given";

/** The names of one culture, and how often the seed picks it (in percent, about). */
export interface Culture {
  readonly name: string;
  readonly weight: number;
  readonly order: NameOrder;
  readonly given: readonly string[];
  readonly family: readonly string[];
  /** Words between family and given name (Vietnamese middle names). */
  readonly middle?: readonly string[];
  /** How often a second family name follows the first (Spanish, Portuguese): 0..1. */
  readonly secondFamily?: number;
  /**
   * The long tail: rarer names made of a start and an end ("Ash" + "worth"), drawn evenly, for
   * `share` of the family names (or, with `given`, of the given names).
   */
  readonly tail?: {
    readonly share: number;
    readonly of: "family" | "given";
    readonly starts: readonly string[];
    readonly ends: readonly string[];
  };
}

/** Names one per word; "~" stands for a space inside a name ("De~Luca"). */
const words = (text: string) =>
  text
    .trim()
    .split(/\s+/u)
    .map((name) => name.replaceAll("~", " ").normalize("NFC"));

export const cultures: readonly Culture[] = [
  {
    name: "English",
    weight: 20,
    order: "given family",
    tail: {
      share: 0.4,
      of: "family",
      starts: words(`Ash Black Brad Brook Cal Clay Cran Dal Fair Fen Glen Hal Hart Hol Kings Lang
        Mar Mor New North Ox Pen Red Rock Sand Shel Stan Stock Thorn Wes Whit Wil Win Wood`),
      ends: words(`ton ley field worth wood ford by well more stone wick ham dale bury combe hurst
        ridge land man sby thorpe burn`),
    },
    given: words(`James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David
      Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Emily Matthew Olivia
      Ada Grace Zoë Chloë Liam Noah Emma Ava Sophia Isabella Jack Harry Oliver Amelia Siobhán Seán`),
    family: words(`Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas
      Moore Martin Jackson White Harris Clark Lewis Walker Young Allen King Wright Scott Hill
      Green Adams Baker Nelson Carter Mitchell O'Brien O'Connor McDonald MacLeod Lovelace Hopper
      Turing Babbage Fitzgerald Murphy Kelly van~der~Berg`),
  },
  {
    name: "Spanish",
    weight: 14,
    order: "given family",
    tail: {
      share: 0.35,
      of: "family",
      starts: words(`Alba Bel Cor Este Fer Gal Iba Lar Mon Ola Pra Quin Riva Sala Tor Val Vill Zar
        Arri Echa Goi Urru Bar Cas Mend Sot`),
      ends: words(`ado ero ana illo era aga ola ote uela arreta azo edo ueta iz ondo alde ibar
        icoechea`),
    },
    secondFamily: 0.5,
    given: words(`José María Juan Ana Luis Carmen Carlos Laura Javier Lucía Miguel Sofía Antonio
      Isabel Manuel Elena Francisco Marta Alejandro Paula Jesús Raquel Pedro Inés Ángel Rocío
      Andrés Pilar Sergio Begoña Íñigo Nuria Álvaro Ainhoa Martín Valentina Mateo Camila`),
    family: words(`García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín
      Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres
      Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega Delgado
      Castro Ortiz Rubio Marín Sanz Núñez Iglesias Medina Garrido Peña`),
  },
  {
    name: "Portuguese",
    weight: 4,
    order: "given family",
    secondFamily: 0.6,
    given: words(`João Maria Ana Pedro Tiago Inês Beatriz Gonçalo Rui Conceição Luís Joana
      Rafael Mariana Vitória Sebastião Thiago Letícia Caio Júlia`),
    family: words(`Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Jesus Sousa
      Fernandes Gonçalves Gomes Lopes Marques Alves Almeida Ribeiro Pinto Carvalho Magalhães
      Araújo Conceição`),
  },
  {
    name: "German",
    weight: 7,
    order: "given family",
    tail: {
      share: 0.4,
      of: "family",
      starts: words(`Hoch Stein Berg Wald Lind Rosen Eichen Feld Bach Brunn Sonnen Schön Grün Kirch
        Mühl Alten Neu Ober Unter Hell Wies Kreuz Dorn Fuchs`),
      ends: words(`berg feld bach mann hofer huber maier stein thal wald brunner gruber hausen
        inger ler müller bauer wieser`),
    },
    given: words(`Lukas Leon Finn Jonas Paul Felix Maximilian Anna Lena Leonie Hannah Lea Sophie
      Marie Jürgen Günter Uwe Jörg Björn Sören Käthe Ursula Helmut Dieter Zoë Mia Emilia`),
    family: words(`Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann
      Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger
      Hofmann Hartmann Lange Schmitt Werner Krause Meier Groß Weiß Köhler Jäger Böhm`),
  },
  {
    name: "French",
    weight: 6,
    order: "given family",
    given: words(`Jean Marie Pierre Michel Françoise André Hélène Philippe Nathalie Céline
      Sébastien Stéphane Frédéric Amélie Chloé Léa Manon Inès Théo Hugo Raphaël Noël Maël Gaëlle
      Zoé Aurélie Jérôme Benoît`),
    family: words(`Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon
      Laurent Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André
      Lefebvre Mercier Dupont de~la~Fontaine Lambert Bonnet François Martinez Bélanger Côté Gagné`),
  },
  {
    name: "Italian",
    weight: 4,
    order: "given family",
    given: words(`Giuseppe Giovanni Antonio Mario Luigi Francesco Angelo Maria Anna Giulia
      Chiara Francesca Alessandro Lorenzo Niccolò Nicolò Ilaria Federica Matteo Sofia`),
    family: words(`Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno
      Gallo Conti De~Luca Mancini Costa Giordano Rizzo Lombardi Moretti D'Angelo Galli`),
  },
  {
    name: "Nordic",
    weight: 3,
    order: "given family",
    given: words(`Søren Bjørn Åsa Ingrid Astrid Sigrid Kjell Øystein Håkon Lærke Mette Freja
      Magnus Anders Lars Nils Sven Jón Guðrún Þóra Sigurður Annika`),
    family: words(`Kierkegaard Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Jensen
      Nielsen Karlsson Andersson Johansson Lindqvist Ødegaard Bråten Sørensen Jónsdóttir
      Sigurðsson Guðmundsson Ström Åberg`),
  },
  {
    name: "Polish and Czech",
    weight: 4,
    order: "given family",
    given: words(`Łukasz Paweł Michał Krzysztof Tomasz Wojciech Agnieszka Małgorzata Katarzyna
      Joanna Zofia Kasia Jiří Jan Petr Tereza Kateřina Lucie Ondřej Věra`),
    family: words(`Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński
      Szymański Woźniak Dąbrowski Kozłowski Wałęsa Novák Svoboda Dvořák Černý Procházka Kučera
      Veselý Horák Němec`),
  },
  {
    name: "Turkish",
    weight: 3,
    order: "given family",
    given: words(`Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim İsmail Ayşe Fatma Emine Hatice
      Zeynep Elif Özge Çağla Gökhan Şule Ömer Yiğit`),
    family: words(`Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan
      Doğan Kılıç Aslan Çetin Kara Koç Kurt Özkan Şimşek`),
  },
  {
    name: "Vietnamese",
    weight: 5,
    order: "family given",
    middle: words(`Văn Thị Minh Đức Thanh Ngọc Hoàng Quang Thu Hữu`),
    given: words(`An Anh Bảo Bình Châu Dũng Giang Hà Hải Hạnh Hiếu Hoa Hùng Huy Hương Khánh Lan
      Linh Long Mai Nam Nga Phương Quân Sơn Tâm Thảo Trang Tuấn Vy`),
    family: words(`Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý`),
  },
  {
    name: "Hungarian",
    weight: 1,
    order: "family given",
    given: words(`László István József János Zoltán Sándor Gábor Péter Mária Erzsébet Katalin
      Ildikó Éva Zsófia Réka`),
    family: words(`Nagy Kovács Tóth Szabó Horváth Varga Kiss Molnár Németh Farkas Balogh Papp
      Takács Juhász Erdős Lakatos Mészáros Oláh`),
  },
  {
    name: "Chinese",
    weight: 8,
    order: "family+given",
    tail: {
      share: 0.6,
      of: "given",
      starts: words(`子|zi 嘉|jia 浩|hao 宇|yu 晓|xiao 欣|xin 思|si 俊|jun 雨|yu 梓|zi 博|bo
        文|wen 佳|jia 一|yi 诗|shi 天|tian 明|ming 若|ruo 志|zhi 春|chun`),
      ends: words(`涵|han 轩|xuan 然|ran 怡|yi 萱|xuan 琪|qi 睿|rui 泽|ze 杰|jie 彤|tong 辰|chen
        阳|yang 宁|ning 婷|ting 华|hua 东|dong 航|hang 悦|yue 楠|nan 晨|chen`),
    },
    given: words(`伟|wei 芳|fang 娜|na 秀英|xiuying 敏|min 静|jing 丽|li 强|qiang 磊|lei 军|jun
      洋|yang 勇|yong 艳|yan 杰|jie 娟|juan 涛|tao 明|ming 超|chao 秀兰|xiulan 霞|xia 平|ping
      刚|gang 桂英|guiying 小龙|xiaolong 晓明|xiaoming 子怡|ziyi 嘉欣|jiaxin 浩然|haoran 宇轩|yuxuan`),
    family: words(`王|wang 李|li 张|zhang 刘|liu 陈|chen 杨|yang 黄|huang 赵|zhao 吴|wu 周|zhou
      徐|xu 孙|sun 马|ma 朱|zhu 胡|hu 郭|guo 何|he 高|gao 林|lin 罗|luo 郑|zheng 梁|liang`),
  },
  {
    name: "Chinese, in pinyin",
    weight: 3,
    order: "given family",
    given: words(`Wei Fang Min Jing Lei Jun Yang Tao Ming Xiaoming Ziyi Jiaxin Haoran Yuxuan
      Xiùyīng Lǐ`),
    family: words(`Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Lin Zheng`),
  },
  {
    name: "Japanese",
    weight: 4,
    order: "family given",
    given: words(`太郎|taro 翔太|shota 大翔|hiroto 蓮|ren 陽翔|haruto 悠真|yuma 結衣|yui 陽菜|hina
      さくら|sakura 美咲|misaki 花子|hanako 葵|aoi 健|ken 直樹|naoki 由美|yumi`),
    family: words(`佐藤|sato 鈴木|suzuki 高橋|takahashi 田中|tanaka 伊藤|ito 渡辺|watanabe
      山本|yamamoto 中村|nakamura 小林|kobayashi 加藤|kato 吉田|yoshida 山田|yamada 佐々木|sasaki
      山口|yamaguchi 松本|matsumoto`),
  },
  {
    name: "Korean",
    weight: 3,
    order: "family+given",
    given: words(`민준|minjun 서연|seoyeon 도윤|doyoon 지우|jiwoo 서준|seojun 하은|haeun 예준|yejun
      지민|jimin 수아|sua 지호|jiho 유나|yuna 현우|hyunwoo`),
    family: words(`김|kim 이|lee 박|park 최|choi 정|jung 강|kang 조|cho 윤|yoon 장|jang 임|lim`),
  },
  {
    name: "Russian and Ukrainian",
    weight: 6,
    order: "given family",
    tail: {
      share: 0.4,
      of: "family",
      starts: words(`Бел|bel Вор|vor Гор|gor Зай|zay Крас|kras Лебед|lebed Мед|med Ник|nik Орл|orl
        Сав|sav Тих|tikh Щерб|shcherb Яков|yakov Жук|zhuk Карп|karp Лаз|laz Мак|mak Рыб|ryb
        Гонч|gonch Кисел|kisel`),
      ends: words(`ов|ov ев|ev ин|in ский|sky енко|enko цкий|tsky ович|ovich анов|anov ук|uk`),
    },
    given: words(`Александр|aleksandr Сергей|sergey Дмитрий|dmitry Андрей|andrey Алексей|alexey
      Иван|ivan Михаил|mikhail Ольга|olga Елена|elena Наталья|natalya Татьяна|tatyana
      Анна|anna Мария|maria Юлия|yulia Екатерина|ekaterina Ёлка|yolka Олена|olena
      Тарас|taras Богдан|bohdan Оксана|oksana`),
    family: words(`Иванов|ivanov Петров|petrov Смирнов|smirnov Кузнецов|kuznetsov Попов|popov
      Васильев|vasilyev Соколов|sokolov Михайлов|mikhailov Новиков|novikov Фёдоров|fedorov
      Морозов|morozov Волков|volkov Петрова|petrova Иванова|ivanova Шевченко|shevchenko
      Коваленко|kovalenko Бондаренко|bondarenko Ткаченко|tkachenko`),
  },
  {
    name: "Greek",
    weight: 2,
    order: "given family",
    given: words(`Γιώργος|giorgos Δημήτρης|dimitris Κώστας|kostas Γιάννης|giannis Νίκος|nikos
      Μαρία|maria Ελένη|eleni Αικατερίνη|aikaterini Σοφία|sofia Αναστασία|anastasia`),
    family: words(`Παπαδόπουλος|papadopoulos Παπαδοπούλου|papadopoulou Οικονόμου|oikonomou
      Γεωργίου|georgiou Νικολάου|nikolaou Αθανασίου|athanasiou Παπάς|papas Βασιλείου|vasileiou`),
  },
  {
    name: "Arabic",
    weight: 5,
    order: "given family",
    given: words(`محمد|mohamed أحمد|ahmed علي|ali عمر|omar يوسف|youssef خالد|khaled فاطمة|fatima
      عائشة|aisha مريم|maryam نور|nour ليلى|layla حسن|hassan`),
    family: words(`العلي|alali الحسن|alhassan منصور|mansour حداد|haddad خوري|khoury
      إبراهيم|ibrahim عبدالله|abdullah الشمري|alshammari سعيد|saeed حسين|hussein`),
  },
  {
    name: "Indian",
    weight: 6,
    order: "given family",
    given: words(`Aarav Vivaan Aditya Arjun Sai Reyansh Krishna Ishaan Priya Ananya Diya Aadhya
      Saanvi Kavya Lakshmi Rahul Amit Sunita Deepak Pooja`),
    family: words(`Sharma Verma Patel Gupta Singh Kumar Reddy Iyer Nair Rao Menon Joshi Mehta
      Chatterjee Banerjee Mukherjee Das Pillai Bose Khan`),
  },
  {
    name: "Hindi, in Devanagari",
    weight: 2,
    order: "given family",
    given: words(`प्रिया|priya राहुल|rahul अमित|amit सुनीता|sunita अनन्या|ananya आरव|aarav`),
    family: words(`शर्मा|sharma वर्मा|verma गुप्ता|gupta सिंह|singh कुमार|kumar पटेल|patel`),
  },
  {
    name: "West African",
    weight: 2,
    order: "given family",
    given: words(`Adébáyọ̀ Olúwaseun Chiamaka Ngozi Chukwuemeka Oluwadamilare Abena Kwame Kofi
      Ama Fatoumata Moussa Aminata Ìfẹ́olúwa`),
    family: words(`Ọláwálé Adéyẹmí Okonkwo Okafor Mensah Owusu Boateng Diallo Traoré Keïta
      Ndiaye Adébáyọ̀`),
  },
  {
    name: "Hebrew",
    weight: 1,
    order: "given family",
    given: words(`נועה|noa תמר|tamar יוסף|yosef דוד|david אברהם|avraham שרה|sarah`),
    family: words(`כהן|cohen לוי|levi מזרחי|mizrahi פרץ|peretz ביטון|biton`),
  },
];
